import { describe, expect, it } from 'vitest';
import type { MessageHandler, Subscription } from './device-connection';
import { pubsub, type PubsubConnection } from './pubsub';

/** Echoes each publish back after `ackDelayTicks` microtasks, like a broker would. */
function echoConnection(
  options: {
    echo?: boolean;
    fail?: (topic: string, i: number) => boolean;
    /** Payloads somebody else publishes on the topic just before each echo. */
    others?: readonly string[];
  } = {},
) {
  const handlers = new Map<string, MessageHandler>();
  const stats = { inFlight: 0, maxInFlight: 0, published: [] as string[], unsubscribed: 0 };
  let n = 0;
  const connection: PubsubConnection = {
    subscribe: (filter, handler): Promise<Subscription> => {
      handlers.set(filter, handler);
      return Promise.resolve({
        filter,
        unsubscribe: () => {
          stats.unsubscribed++;
          handlers.delete(filter);
          return Promise.resolve();
        },
      });
    },
    publish: async (topic, payload) => {
      const index = ++n;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      stats.inFlight--;
      if (options.fail?.(topic, index))
        throw Object.assign(new Error('denied'), { name: 'OperationDeniedError' });
      const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString();
      stats.published.push(text);
      for (const other of options.others ?? [])
        handlers.get(topic)?.({ topic, payload: Buffer.from(other) });
      if (options.echo !== false) handlers.get(topic)?.({ topic, payload: Buffer.from(text) });
    },
  };
  return { connection, stats };
}

describe('Function: pubsub', () => {
  it('publishes the seed payloads and resolves when all came back', async () => {
    const { connection, stats } = echoConnection();
    const received: Array<number | undefined> = [];
    const result = await pubsub(connection, {
      onReceived: ({ index }) => received.push(index),
    });
    expect(result).toEqual({
      expected: 5,
      published: 5,
      received: 5,
      complete: true,
      aborted: false,
      subscription: undefined,
    });
    expect(stats.published).toEqual([1, 2, 3, 4, 5].map((i) => `"Hello World! [${i}]"`));
    expect(received).toEqual([1, 2, 3, 4, 5]);
    expect(stats.unsubscribed).toBe(1);
  });

  it('pipelines publishes but never has more than `window` awaiting PUBACK', async () => {
    const { connection, stats } = echoConnection();
    const result = await pubsub(connection, { count: 200, window: 8 });
    expect(result.complete).toBe(true);
    expect(stats.maxInFlight).toBe(8);
  });

  it('resolves incomplete when messages do not come back before the timeout', async () => {
    const { connection } = echoConnection({ echo: false });
    const result = await pubsub(connection, { count: 3, timeoutMs: 30 });
    expect(result).toMatchObject({ published: 3, received: 0, complete: false, aborted: false });
  });

  it('rejects with the publish error, e.g. a denied topic', async () => {
    const { connection } = echoConnection({ fail: (_topic, i) => i === 2 });
    await expect(pubsub(connection, { count: 5, window: 1 })).rejects.toMatchObject({
      name: 'OperationDeniedError',
    });
  });

  it('stops early with aborted: true when the signal fires', async () => {
    const { connection } = echoConnection({ echo: false });
    const controller = new AbortController();
    const result = await pubsub(connection, {
      count: 3,
      signal: controller.signal,
      onPublished: (i) => {
        if (i === 1) controller.abort();
      },
    });
    expect(result.aborted).toBe(true);
    expect(result.complete).toBe(false);
  });

  it('tells its own messages from look-alikes others publish on the topic', async () => {
    const others = [
      '"pong [1]"',
      '"ping [3]"',
      '"ping [01]"',
      '"ping [0]"',
      'ping [1]',
      '{"ping":1}',
    ];
    const { connection } = echoConnection({ others });
    const seen: Array<{ index: number | undefined; text: string }> = [];
    const result = await pubsub(connection, {
      count: 2,
      message: 'ping',
      onReceived: ({ index, text }) => seen.push({ index, text }),
    });
    expect(result).toMatchObject({ received: 2, complete: true });
    expect(seen.filter((m) => m.index !== undefined)).toEqual([
      { index: 1, text: '"ping [1]"' },
      { index: 2, text: '"ping [2]"' },
    ]);
    expect(seen.filter((m) => m.index === undefined).map((m) => m.text)).toEqual([
      ...others,
      ...others,
    ]);
  });

  it('counts each message once, ignores foreign payloads, and can keep the subscription', async () => {
    const { connection } = echoConnection();
    const foreign: string[] = [];
    const result = await pubsub(connection, {
      count: 2,
      message: 'ping',
      keepSubscribed: true,
      onReceived: ({ index, text }) => {
        if (index === undefined) foreign.push(text);
      },
      onPublished: () => undefined,
    });
    expect(result.received).toBe(2);
    expect(result.subscription?.filter).toBe('test/topic');
    expect(foreign).toEqual([]);
  });
});
