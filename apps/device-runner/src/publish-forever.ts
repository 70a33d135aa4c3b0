import { isOperationDeniedError, type DeviceConnection } from '@thingcert/device-client';
import type { EventLog } from './event-log';
import type { MessageCounters } from './message-counters';
import type { RunConfig } from './run-config';

/**
 * Keeps the device online until `signal` aborts; with an interval it keeps
 * publishing numbered messages from `firstIndex + 1` on. Publishes do not wait
 * for each other's PUBACK, only for a free slot of `config.window`: while the
 * connection is down (a drop, a credentials switch) they are queued and sent
 * when it is back, and the rate does not sag behind the round trip. Rejects
 * with the broker's refusal of a publish (a policy denial will not heal);
 * other failures (offline queue full) are logged and it goes on.
 */
export async function publishForever(
  config: Pick<RunConfig, 'interval' | 'window' | 'topic' | 'message'>,
  connection: Pick<DeviceConnection, 'publish'>,
  log: EventLog,
  counters: MessageCounters,
  firstIndex: number,
  signal: AbortSignal,
): Promise<void> {
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (config.interval === 0) {
    await aborted;
    return;
  }
  const inFlight = new Set<Promise<void>>();
  let denied: Error | undefined;
  let next = firstIndex;
  // The interval runs from the start of one publish to the start of the next,
  // so `--interval 100` is 10 messages a second whatever the round trip; a
  // publish that had to wait longer for a slot is followed at once, without
  // a burst to catch up.
  let nextAt = performance.now() + config.interval;
  while (!signal.aborted && denied === undefined) {
    await sleep(nextAt - performance.now(), signal);
    while (inFlight.size >= config.window && !signal.aborted) {
      await Promise.race([aborted, ...inFlight]);
    }
    if (signal.aborted || denied !== undefined) break;
    nextAt = performance.now() + config.interval;
    // Its own copy: the acknowledgement arrives after later publishes moved `next` on.
    const index = ++next;
    const message = `${config.message} [${index}]`;
    log({ event: 'publishing', topic: config.topic, index, message });
    counters.published++;
    const sent: Promise<void> = connection
      .publish(config.topic, JSON.stringify(message))
      .then(
        () => {
          counters.acked++;
          log({ event: 'published', topic: config.topic, index, message });
        },
        (error: unknown) => {
          if (signal.aborted) return;
          if (isOperationDeniedError(error)) denied ??= error;
          else log({ event: 'interrupted', message: (error as Error).message });
        },
      )
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  }
  if (denied !== undefined) throw denied;
}

/** Resolves after `ms`, or at once when `signal` aborts (the timer is cleared). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
