import { describe, expect, it } from 'vitest';
import { fakeFactory, type FakeTransport } from '../test/fake-transport';
import { DeviceConnection, type DeviceConnectionOptions } from './device-connection';

function setup(
  extra: Partial<DeviceConnectionOptions> = {},
  onStart: (transport: FakeTransport) => void = (transport) => transport.connect(),
) {
  const { factory, transports } = fakeFactory((transport) => {
    transport.onStart = () => onStart(transport);
  });
  const connection = new DeviceConnection({
    thingName: 'thing-1',
    endpoint: 'example-ats.iot.eu-west-1.amazonaws.com',
    certPath: '/c',
    keyPath: '/k',
    transportFactory: factory,
    ...extra,
  });
  return {
    connection,
    transport: (): FakeTransport => {
      const transport = transports[0];
      if (transport === undefined) throw new Error('no transport yet');
      return transport;
    },
  };
}

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Class: DeviceConnection', () => {
  describe('Method: start', () => {
    it('passes thing name as client id, MQTT 5, port 8883 and the defaults to the transport', async () => {
      const { connection, transport } = setup();
      await connection.start();
      expect(transport().options).toEqual({
        protocol: 'mqtt5',
        endpoint: 'example-ats.iot.eu-west-1.amazonaws.com',
        port: 8883,
        clientId: 'thing-1',
        certPath: '/c',
        keyPath: '/k',
        caPath: undefined,
        keepAliveSeconds: 60,
        minReconnectDelayMs: 1_000,
        maxReconnectDelayMs: 60_000,
        sessionExpirySeconds: 3_600,
        rejoinSession: false,
      });
      expect(connection.state).toBe('connected');
    });

    it('delivers lifecycle events to listeners attached before start, in order', async () => {
      const { connection } = setup({}, (transport) => {
        transport.events.onConnecting();
        transport.fail({ nativeError: 'AWS_IO_SOCKET_TIMEOUT' });
        transport.events.onConnecting();
        transport.connect();
      });
      const seen: string[] = [];
      connection.on('connecting', ({ attempt }) => seen.push(`connecting ${attempt}`));
      connection.on('connectionFailure', ({ error }) => seen.push(`failure ${error.reason}`));
      connection.on('connected', ({ reconnect }) => seen.push(`connected reconnect=${reconnect}`));
      await connection.start();
      expect(seen).toEqual([
        'connecting 1',
        'failure timeout',
        'connecting 2',
        'connected reconnect=false',
      ]);
    });

    it('gives up at the first permanent failure and frees the transport', async () => {
      const { connection, transport } = setup({}, (t) =>
        t.fail({ nativeError: 'AWS_IO_DNS_INVALID_NAME' }),
      );
      await expect(connection.start()).rejects.toMatchObject({
        name: 'DeviceConnectionError',
        reason: 'dns',
        nativeError: 'AWS_IO_DNS_INVALID_NAME',
        message: expect.stringContaining('--endpoint') as unknown,
      });
      expect(transport().stopped).toBe(1);
      expect(connection.state).toBe('stopped');
    });

    it('times out when no connection comes, naming the last failure', async () => {
      const { connection, transport } = setup({ connectTimeoutMs: 20 }, (t) =>
        t.fail({ nativeError: 'AWS_IO_SOCKET_TIMEOUT' }),
      );
      await expect(connection.start()).rejects.toMatchObject({
        name: 'DeviceConnectionError',
        reason: 'timeout',
        message: expect.stringContaining('not connected after 20 ms') as unknown,
      });
      expect(transport().stopped).toBe(1);
    });

    it('reports unreadable credential files when the transport cannot be built', async () => {
      const connection = new DeviceConnection({
        thingName: 't',
        endpoint: 'e',
        certPath: '/missing',
        keyPath: '/missing',
        transportFactory: () => {
          throw Object.assign(new Error('native'), { error_name: 'AWS_ERROR_FILE_INVALID_PATH' });
        },
      });
      await expect(connection.start()).rejects.toMatchObject({ reason: 'credentials' });
      expect(connection.state).toBe('stopped');
    });

    it('may be called only once', async () => {
      const { connection } = setup();
      await connection.start();
      await expect(connection.start()).rejects.toMatchObject({ name: 'ConnectionClosedError' });
    });
  });

  describe('Method: subscribe', () => {
    it('routes messages to handlers whose filter matches', async () => {
      const { connection, transport } = setup();
      await connection.start();
      const a: string[] = [];
      const b: string[] = [];
      await connection.subscribe('sensors/+/temp', ({ topic }) => a.push(topic));
      await connection.subscribe('sensors/#', ({ payload }) => b.push(payload.toString()));
      transport().events.onMessage('sensors/x/temp', Buffer.from('21'));
      transport().events.onMessage('other', Buffer.from('no'));
      expect(a).toEqual(['sensors/x/temp']);
      expect(b).toEqual(['21']);
    });

    it('reports a dropped live connection as lost and reconnecting, not as a refused connect', async () => {
      const { connection, transport } = setup();
      await connection.start();
      const lost: Error[] = [];
      connection.on('disconnected', ({ error }) => lost.push(error));

      transport().drop();

      expect(connection.state).toBe('reconnecting');
      expect(lost).toHaveLength(1);
      expect(lost[0]!.message).toMatch(
        /^Lost the connection to .*: the broker closed it; reconnecting\./,
      );
    });

    it('resubscribes after a reconnect without session, not after one with session', async () => {
      const { connection, transport } = setup();
      await connection.start();
      await connection.subscribe('a/b', () => undefined);
      const resubscribed = new Promise<readonly string[]>((resolve) =>
        connection.on('resubscribed', ({ filters }) => resolve(filters)),
      );

      transport().drop();
      transport().connect(true);
      expect(transport().subscribes).toEqual(['a/b']);

      transport().drop();
      transport().connect(false);
      expect(await resubscribed).toEqual(['a/b']);
      expect(transport().subscribes).toEqual(['a/b', 'a/b']);
    });

    it('rejects a refused SUBACK with OperationDeniedError and forgets the handler', async () => {
      const { connection, transport } = setup();
      await connection.start();
      transport().subackResult = { ok: false, reasonCode: 135 };
      await expect(connection.subscribe('secret/#', () => undefined)).rejects.toMatchObject({
        name: 'OperationDeniedError',
        operation: 'subscribe',
        topic: 'secret/#',
        message: expect.stringContaining('iot:Subscribe') as unknown,
      });
      transport().drop();
      transport().connect(false);
      expect(transport().subscribes).toEqual(['secret/#']);
    });

    it('rejects every concurrent subscriber of a filter whose first SUBACK is refused', async () => {
      const { connection, transport } = setup();
      await connection.start();
      transport().holdSubacks = true;
      const got: string[] = [];
      const settled: string[] = [];
      const first = connection.subscribe('t/#', ({ topic }) => got.push(`first ${topic}`));
      const second = connection.subscribe('t/#', ({ topic }) => got.push(`second ${topic}`));
      void second.then(
        () => settled.push('second resolved'),
        () => settled.push('second rejected'),
      );
      await Promise.resolve();
      await Promise.resolve();
      // One broker subscribe for both, and the second caller waits for its SUBACK.
      expect(transport().subscribes).toEqual(['t/#']);
      expect(settled).toEqual([]);

      transport().heldSubacks[0]!.ack.resolve({ ok: false, reasonCode: 135 });
      await expect(first).rejects.toMatchObject({ name: 'OperationDeniedError', topic: 't/#' });
      await expect(second).rejects.toMatchObject({ name: 'OperationDeniedError', topic: 't/#' });
      transport().events.onMessage('t/x', Buffer.from('x'));
      expect(got).toEqual([]);

      // No entry remains: a reconnect without session does not resubscribe it,
      // and a new subscribe goes to the broker again.
      transport().drop();
      transport().connect(false);
      expect(transport().subscribes).toEqual(['t/#']);
      transport().holdSubacks = false;
      await connection.subscribe('t/#', ({ topic }) => got.push(`third ${topic}`));
      expect(transport().subscribes).toEqual(['t/#', 't/#']);
      transport().events.onMessage('t/y', Buffer.from('y'));
      expect(got).toEqual(['third t/y']);
    });

    it('resolves every concurrent subscriber of a filter once its first SUBACK accepts', async () => {
      const { connection, transport } = setup();
      await connection.start();
      transport().holdSubacks = true;
      const got: string[] = [];
      const settled: string[] = [];
      const first = connection.subscribe('t/#', ({ topic }) => got.push(`first ${topic}`));
      const second = connection.subscribe('t/#', ({ topic }) => got.push(`second ${topic}`));
      void second.then(() => settled.push('second resolved'));
      await Promise.resolve();
      await Promise.resolve();
      expect(settled).toEqual([]);

      transport().heldSubacks[0]!.ack.resolve({ ok: true });
      await expect(first).resolves.toMatchObject({ filter: 't/#' });
      await expect(second).resolves.toMatchObject({ filter: 't/#' });
      expect(transport().subscribes).toEqual(['t/#']);
      transport().events.onMessage('t/x', Buffer.from('x'));
      expect(got).toEqual(['first t/x', 'second t/x']);
    });

    it('reports a throwing handler as an error event and keeps delivering', async () => {
      const { connection, transport } = setup();
      await connection.start();
      const errors: string[] = [];
      const got: string[] = [];
      connection.on('error', ({ error }) => errors.push(error.message));
      await connection.subscribe('t', () => {
        throw new Error('handler broke');
      });
      await connection.subscribe('t', ({ payload }) => got.push(payload.toString()));
      transport().events.onMessage('t', Buffer.from('x'));
      expect(errors).toEqual(['handler broke']);
      expect(got).toEqual(['x']);
    });
  });

  describe('Method: publish', () => {
    it('resolves on PUBACK only', async () => {
      const { connection, transport } = setup();
      await connection.start();
      let done = false;
      const publish = connection.publish('t', 'hello').then(() => (done = true));
      await Promise.resolve();
      expect(done).toBe(false);
      expect(transport().publishes[0]).toMatchObject({ topic: 't', payload: 'hello', qos: 1 });
      transport().publishes[0]!.ack.resolve({ ok: true });
      await publish;
      expect(done).toBe(true);
    });

    it('bounds the offline queue while reconnecting and drains it after', async () => {
      const { connection, transport } = setup({ maxOfflineQueue: 2 });
      await connection.start();
      transport().drop();
      const first = connection.publish('t', '1');
      const second = connection.publish('t', '2');
      await expect(connection.publish('t', '3')).rejects.toMatchObject({
        name: 'OfflineQueueFullError',
        limit: 2,
      });
      transport().connect(true);
      for (const p of transport().publishes) p.ack.resolve({ ok: true });
      await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
      expect(transport().publishes.map((p) => p.payload)).toEqual(['1', '2']);
    });

    it('turns a refused PUBACK (MQTT 5 reason code) into OperationDeniedError', async () => {
      const { connection, transport } = setup();
      await connection.start();
      const publish = connection.publish('forbidden', 'x');
      transport().publishes[0]!.ack.resolve({ ok: false, reasonCode: 135 });
      await expect(publish).rejects.toMatchObject({
        name: 'OperationDeniedError',
        message: expect.stringContaining('iot:Publish') as unknown,
      });
    });

    it('fails a publish the broker keeps disconnecting over (MQTT 3.1.1 denial)', async () => {
      const { connection, transport } = setup({ deniedAfterDisconnects: 2 });
      await connection.start();
      const publish = connection.publish('forbidden', 'x');
      const outcome = publish.then(
        () => 'resolved',
        (error: Error) => error.name,
      );
      transport().drop();
      transport().connect(true);
      transport().drop();
      expect(await outcome).toBe('OperationDeniedError');
    });

    it('refuses before start and after stop', async () => {
      const { connection } = setup();
      await expect(connection.publish('t', 'x')).rejects.toMatchObject({
        name: 'ConnectionClosedError',
      });
      await connection.start();
      await connection.stop();
      await expect(connection.publish('t', 'x')).rejects.toMatchObject({
        name: 'ConnectionClosedError',
      });
    });
  });

  describe('Method: switchCredentials', () => {
    /** A connection whose transports (one per set of credentials) the test drives. */
    async function switching(failSecond = false) {
      const order: string[] = [];
      const { factory, transports } = fakeFactory((transport) => {
        const n = transports.length;
        transport.onStart = () => order.push(`start ${n}`);
        const stop = transport.stop.bind(transport);
        transport.stop = () => {
          order.push(`stop ${n}`);
          return stop();
        };
      });
      const connection = new DeviceConnection({
        thingName: 'thing-1',
        endpoint: 'e',
        certPath: '/a/c',
        keyPath: '/a/k',
        caPath: '/broker-ca.pem',
        transportFactory: (options, events) => {
          if (failSecond && transports.length === 1) throw new Error('cannot load /b/c');
          return factory(options, events);
        },
      });
      const events: string[] = [];
      connection.on('switching', () => events.push('switching'));
      connection.on('disconnected', () => events.push('disconnected'));
      connection.on('connected', (e) => events.push(`connected ${JSON.stringify(e)}`));
      const started = connection.start();
      transports[0]!.connect();
      await started;
      const at = (i: number): FakeTransport => transports[i]!;
      return { connection, transports, at, order, events };
    }

    it('closes the old connection, then connects with the new files, same client id, session resumed', async () => {
      const { connection, at, order, events } = await switching();
      await connection.switchCredentials({ certPath: '/b/c', keyPath: '/b/k' });
      expect(at(1).options).toMatchObject({
        clientId: 'thing-1',
        certPath: '/b/c',
        keyPath: '/b/k',
        // The broker's CA is not the device's to rotate: it stays.
        caPath: '/broker-ca.pem',
        rejoinSession: true,
      });
      expect(at(0).options.rejoinSession).toBe(false);
      expect(order).toEqual(['start 0', 'stop 0', 'start 1']);
      at(1).connect(true);
      expect(events).toEqual([
        'connected {"sessionPresent":false,"reconnect":false}',
        'switching',
        'connected {"sessionPresent":true,"reconnect":true}',
      ]);
      expect(connection.state).toBe('connected');
    });

    it('sends unacknowledged and new publishes on the new connection once it is up', async () => {
      const { connection, at } = await switching();
      const before = connection.publish('t', 'before');
      const switched = connection.switchCredentials({ certPath: '/b/c', keyPath: '/b/k' });
      const during = connection.publish('t', 'during');
      await switched;
      // Closing the old client fails what it still held: not the operations' fate.
      at(0).publishes[0]!.ack.reject(new Error('AWS_ERROR_MQTT5_USER_REQUESTED_STOP'));
      await Promise.resolve();
      expect(at(1).publishes).toEqual([]);
      at(1).connect(true);
      expect(at(1).publishes.map((p) => p.payload)).toEqual(['before', 'during']);
      for (const p of at(1).publishes) p.ack.resolve({ ok: true });
      await expect(Promise.all([before, during])).resolves.toEqual([undefined, undefined]);
    });

    it('settles a publish the old connection acknowledged during the switch, without resending it', async () => {
      const { connection, at } = await switching();
      const before = connection.publish('t', 'before');
      await connection.switchCredentials({ certPath: '/b/c', keyPath: '/b/k' });
      at(0).publishes[0]!.ack.resolve({ ok: true });
      await expect(before).resolves.toBeUndefined();
      at(1).connect(true);
      expect(at(1).publishes).toEqual([]);
    });

    it('ignores what the replaced connection reports after the switch', async () => {
      const { connection, at, events } = await switching();
      await connection.switchCredentials({ certPath: '/b/c', keyPath: '/b/k' });
      at(0).drop();
      at(0).connect();
      expect(events).toEqual(['connected {"sessionPresent":false,"reconnect":false}', 'switching']);
    });

    it('keeps the current connection when the new files cannot be loaded', async () => {
      const { connection, at, order, events } = await switching(true);
      await expect(
        connection.switchCredentials({ certPath: '/b/c', keyPath: '/b/k' }),
      ).rejects.toMatchObject({ name: 'DeviceConnectionError', reason: 'credentials' });
      expect(order).toEqual(['start 0']);
      at(0).drop();
      expect(events.at(-1)).toBe('disconnected');
    });

    it('replaces a transport that hides refused reconnects after a drop, resending what it held', async () => {
      const { connection, at, order, events } = await switching();
      at(0).reportsReconnectFailures = false;
      const before = connection.publish('t', 'before');
      at(0).drop();
      await expect.poll(() => order).toEqual(['start 0', 'stop 0', 'start 1']);
      expect(at(1).options).toMatchObject({ certPath: '/a/c', rejoinSession: true });
      // Not a credentials switch: no 'switching' event, one 'disconnected'.
      expect(events.slice(1)).toEqual(['disconnected']);
      at(1).connect(true);
      expect(at(1).publishes.map((p) => p.payload)).toEqual(['before']);
      at(1).publishes[0]!.ack.resolve({ ok: true });
      await expect(before).resolves.toBeUndefined();
    });

    it('lets a transport that reports refused reconnects reconnect by itself', async () => {
      const { at, order } = await switching();
      at(0).drop();
      await Promise.resolve();
      expect(order).toEqual(['start 0']);
    });

    it('refuses before start', async () => {
      const { connection } = setup();
      await expect(
        connection.switchCredentials({ certPath: '/b/c', keyPath: '/b/k' }),
      ).rejects.toMatchObject({ name: 'ConnectionClosedError' });
    });
  });

  describe('Method: stop', () => {
    it('stops the transport once, rejects waiting operations and emits stopped', async () => {
      const { connection, transport } = setup();
      await connection.start();
      const pending = connection.publish('t', 'x');
      const stopped: unknown[] = [];
      connection.on('stopped', (event) => stopped.push(event));
      await Promise.all([connection.stop(), connection.stop()]);
      await expect(pending).rejects.toMatchObject({ name: 'ConnectionClosedError' });
      expect(transport().stopped).toBe(1);
      expect(stopped).toEqual([{}]);
      expect(connection.state).toBe('stopped');
    });

    it('ignores transport events that arrive after stop', async () => {
      const { connection, transport } = setup();
      await connection.start();
      await connection.stop();
      const events: string[] = [];
      connection.on('connected', () => events.push('connected'));
      connection.on('disconnected', () => events.push('disconnected'));
      transport().drop();
      transport().connect();
      expect(events).toEqual([]);
    });
  });
});
