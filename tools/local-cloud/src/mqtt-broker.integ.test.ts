import { DeleteCertificateCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowAll,
  closed,
  connectMqtt,
  createDevice,
  crtConnection as sharedCrtConnection,
  mqttOptions,
  nextMessage,
  startCloudFixture,
  type CloudFixture,
} from '../test/helpers';
import { MAX_PUBLISH_PAYLOAD_BYTES } from './mqtt-broker';

// `fixture` has the defaults (one CONNECT per second per client id, as AWS). `noWindow` turns
// that limit off for tests about something else that reconnect the same client id at once.
// `longWindow` makes "within the window" certain however slow the machine; `shortWindow` lets a
// test wait for the window to pass without waiting a whole second.
let fixture: CloudFixture;
let noWindow: CloudFixture;
let longWindow: CloudFixture;
let shortWindow: CloudFixture;
const shortWindowMs = 200;
beforeAll(async () => {
  [fixture, noWindow, longWindow, shortWindow] = await Promise.all([
    startCloudFixture(),
    startCloudFixture({ connectIntervalMs: 0 }),
    startCloudFixture({ connectIntervalMs: 60_000 }),
    startCloudFixture({ connectIntervalMs: shortWindowMs }),
  ]);
});
afterAll(async () => {
  await Promise.all([fixture.stop(), noWindow.stop(), longWindow.stop(), shortWindow.stop()]);
});

const arn = 'arn:aws:iot:us-east-1:000000000000';

describe('MQTT broker with mqtt.js (MQTT 3.1.1 over mTLS)', () => {
  // Long only because it lists many independent broker cases; no logic spans them.
  it('accepts an ACTIVE registered certificate and routes a QoS1 round trip', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const client = await connectMqtt(mqttOptions(fixture, device, 'round-trip'));
    try {
      await client.subscribeAsync('rt/a', { qos: 1 });
      const received = nextMessage(client, 'rt/a');
      await client.publishAsync('rt/a', 'hello', { qos: 1 });
      expect(await received).toBe('hello');
    } finally {
      await client.endAsync();
    }
  });

  it('refuses an INACTIVE certificate with CONNACK not authorized', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll, active: false });
    await expect(connectMqtt(mqttOptions(fixture, device, 'inactive'))).rejects.toThrow(
      /Not authorized/i,
    );
  });

  it('refuses a certificate signed by the local CA once it is deleted (not registered)', async () => {
    const device = await createDevice(fixture.iot, { active: false });
    await fixture.iot.send(new DeleteCertificateCommand({ certificateId: device.certificateId }));
    await expect(connectMqtt(mqttOptions(fixture, device, 'deleted'))).rejects.toThrow(
      /Not authorized/i,
    );
  });

  it('refuses, at the TLS handshake, a certificate from another CA', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const other = await startCloudFixture();
    try {
      const stranger = await createDevice(other.iot, { statements: allowAll });
      await expect(
        connectMqtt({
          ...mqttOptions(fixture, device, 'stranger'),
          cert: stranger.certificatePem,
          key: stranger.privateKey,
        }),
      ).rejects.toThrow();
    } finally {
      await other.stop();
    }
  });

  it('refuses CONNECT when the policy does not allow the client id', async () => {
    const device = await createDevice(fixture.iot, {
      statements: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/allowed-*` }],
    });
    await expect(connectMqtt(mqttOptions(fixture, device, 'other-id'))).rejects.toThrow(
      /Not authorized/i,
    );
    const client = await connectMqtt(mqttOptions(fixture, device, 'allowed-1'));
    await client.endAsync();
  });

  it('disconnects a client that publishes to a denied topic', async () => {
    const device = await createDevice(fixture.iot, {
      statements: [
        { Effect: 'Allow', Action: ['iot:Connect', 'iot:Publish'], Resource: '*' },
        { Effect: 'Deny', Action: 'iot:Publish', Resource: `${arn}:topic/forbidden/*` },
      ],
    });
    const client = await connectMqtt(mqttOptions(fixture, device, 'denied-pub'));
    try {
      await client.publishAsync('allowed/x', 'ok', { qos: 1 });
      const gone = closed(client);
      client.publish('forbidden/x', 'no', { qos: 1 });
      await gone;
      expect(client.connected).toBe(false);
    } finally {
      client.end(true);
    }
  });

  it('disconnects a client that subscribes to a denied filter', async () => {
    const device = await createDevice(fixture.iot, {
      statements: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${arn}:topicfilter/ok/*` },
      ],
    });
    const client = await connectMqtt(mqttOptions(fixture, device, 'denied-sub'));
    try {
      await client.subscribeAsync('ok/1', { qos: 1 });
      const gone = closed(client);
      client.subscribe('secret/#', { qos: 1 });
      await gone;
      expect(client.connected).toBe(false);
    } finally {
      client.end(true);
    }
  });

  it('filters Receive per subscriber', async () => {
    const publisher = await createDevice(fixture.iot, { statements: allowAll });
    const listener = await createDevice(fixture.iot, {
      statements: [
        { Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' },
        { Effect: 'Allow', Action: 'iot:Receive', Resource: `${arn}:topic/feed/public` },
      ],
    });
    const pub = await connectMqtt(mqttOptions(fixture, publisher, 'feed-pub'));
    const sub = await connectMqtt(mqttOptions(fixture, listener, 'feed-sub'));
    try {
      await sub.subscribeAsync('feed/#', { qos: 1 });
      const topics: string[] = [];
      sub.on('message', (topic) => topics.push(topic));
      const last = nextMessage(sub, 'feed/public');
      await pub.publishAsync('feed/private', 'hidden', { qos: 1 });
      await pub.publishAsync('feed/public', 'shown', { qos: 1 });
      expect(await last).toBe('shown');
      expect(topics).toEqual(['feed/public']);
    } finally {
      await Promise.all([pub.endAsync(), sub.endAsync()]);
    }
  });

  it('binds ${iot:Connection.Thing.ThingName} to the attached thing named like the client id', async () => {
    const statements = [
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: `${arn}:client/\${iot:Connection.Thing.ThingName}`,
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: `${arn}:topic/dt/\${iot:Connection.Thing.ThingName}/*`,
      },
    ];
    const device = await createDevice(fixture.iot, { statements, thingName: 'sensor-7' });
    await expect(connectMqtt(mqttOptions(fixture, device, 'sensor-8'))).rejects.toThrow(
      /Not authorized/i,
    );
    const client = await connectMqtt(mqttOptions(fixture, device, 'sensor-7'));
    try {
      await client.publishAsync('dt/sensor-7/temp', '21', { qos: 1 });
      const gone = closed(client);
      client.publish('dt/sensor-8/temp', '21', { qos: 1 });
      await gone;
    } finally {
      client.end(true);
    }
  });

  it('drops live connections when the certificate is set INACTIVE', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const client = await connectMqtt(mqttOptions(fixture, device, 'to-revoke'));
    try {
      const gone = closed(client);
      await fixture.iot.send(
        new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'REVOKED' }),
      );
      await gone;
      await expect(connectMqtt(mqttOptions(fixture, device, 'to-revoke'))).rejects.toThrow(
        /Not authorized/i,
      );
    } finally {
      client.end(true);
    }
  });

  it('keeps QoS 1 messages for a persistent session whose certificate is deactivated mid-delivery, and delivers them to its next certificate', async () => {
    // A rotation's cleanup: the certificate leaves ACTIVE while messages are
    // on their way to the session. AWS IoT closes the connection and keeps
    // them for the persistent session; they reach the client id's next
    // connection (a new certificate), where iot:Receive is checked.
    const oldCert = await createDevice(noWindow.iot, { statements: allowAll });
    const newCert = await createDevice(noWindow.iot, { statements: allowAll });
    const publisher = await connectMqtt(mqttOptions(noWindow, newCert, 'keeper-publisher'));
    const options = { ...mqttOptions(noWindow, oldCert, 'keeper'), clean: false };
    const device = await connectMqtt(options);
    const received = new Set<string>();
    const record = (_topic: string, payload: Buffer): void => {
      received.add(payload.toString());
    };
    device.on('message', record);
    let resumed: Awaited<ReturnType<typeof connectMqtt>> | undefined;
    try {
      await device.subscribeAsync('keep/x', { qos: 1 });
      const gone = closed(device);
      const sent = Array.from({ length: 60 }, (_, i) => String(i));
      const publishes = sent.map((text, i) =>
        (async () => {
          if (i === 20) {
            await noWindow.iot.send(
              new UpdateCertificateCommand({
                certificateId: oldCert.certificateId,
                newStatus: 'INACTIVE',
              }),
            );
          }
          await publisher.publishAsync('keep/x', text, { qos: 1 });
        })(),
      );
      await Promise.all(publishes);
      await gone;
      resumed = await connectMqtt({ ...mqttOptions(noWindow, newCert, 'keeper'), clean: false });
      resumed.on('message', record);
      const until = Date.now() + 5_000;
      while (received.size < sent.length && Date.now() < until) await delay(50);
      expect(sent.filter((text) => !received.has(text))).toEqual([]);
    } finally {
      device.end(true);
      resumed?.end(true);
      publisher.end(true);
    }
  });

  it('drops the first connection when a second one uses the same client id', async () => {
    const device = await createDevice(noWindow.iot, { statements: allowAll });
    const first = await connectMqtt(mqttOptions(noWindow, device, 'twin'));
    try {
      const gone = closed(first);
      const second = await connectMqtt(mqttOptions(noWindow, device, 'twin'));
      await gone;
      expect(second.connected).toBe(true);
      await second.endAsync();
    } finally {
      first.end(true);
    }
  });

  it('survives garbage and plain TCP on the TLS port', async () => {
    await new Promise<void>((resolve) => {
      const socket = netConnect(fixture.cloud.mqtt.port, '127.0.0.1', () => {
        socket.end(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\xff garbage'));
      });
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => {
      // TLS without a client certificate: the handshake must fail, not the server.
      const socket = tlsConnect({
        port: fixture.cloud.mqtt.port,
        host: '127.0.0.1',
        ca: fixture.ca,
        servername: 'localhost',
      });
      socket.on('secureConnect', () =>
        socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])),
      );
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const client = await connectMqtt(mqttOptions(fixture, device, 'after-garbage'));
    await client.endAsync();
  });

  it('restartBroker drops connections and listens again on the same port', async () => {
    const device = await createDevice(noWindow.iot, { statements: allowAll });
    const port = noWindow.cloud.mqtt.port;
    const client = await connectMqtt(mqttOptions(noWindow, device, 'restart'));
    try {
      const gone = closed(client);
      await noWindow.cloud.restartBroker();
      await gone;
      expect(noWindow.cloud.mqtt.port).toBe(port);
      const again = await connectMqtt(mqttOptions(noWindow, device, 'restart'));
      await again.endAsync();
    } finally {
      client.end(true);
    }
  });
});

describe('MQTT broker with aws-iot-device-sdk-v2 (MQTT 3.1.1)', () => {
  const crtConnection = (
    device: { certificatePem: string; privateKey: string },
    clientId: string,
    reconnectSec = 60,
    cloud: CloudFixture = fixture,
  ) => sharedCrtConnection(cloud, device, clientId, reconnectSec);

  it('connects to host localhost, subscribes and receives its own QoS1 publish', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const connection = crtConnection(device, 'crt-1');
    try {
      await connection.connect();
      const received = new Promise<string>((resolve) => {
        void connection.subscribe('crt/echo', crtMqtt.QoS.AtLeastOnce, (_topic, payload) =>
          resolve(Buffer.from(payload).toString('utf8')),
        );
      });
      // subscribe() resolves on SUBACK; publish after it, never after a sleep.
      await connection.subscribe('crt/ready', crtMqtt.QoS.AtLeastOnce);
      await connection.publish('crt/echo', 'from-crt', crtMqtt.QoS.AtLeastOnce);
      expect(await received).toBe('from-crt');
    } finally {
      await connection.disconnect();
    }
  });

  it('is refused for a denied client id', async () => {
    const device = await createDevice(fixture.iot, {
      statements: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/only-this` }],
    });
    const connection = crtConnection(device, 'not-this');
    try {
      await expect(connection.connect()).rejects.toThrow();
    } finally {
      await connection.disconnect().catch(() => undefined);
    }
  });

  it('is interrupted when its certificate is deactivated, and resumes once it is ACTIVE again', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const connection = crtConnection(device, 'crt-revoked', 1);
    const interrupted = new Promise<void>((resolve) => connection.on('interrupt', () => resolve()));
    const resumed = new Promise<void>((resolve) => connection.on('resume', () => resolve()));
    try {
      await connection.connect();
      await fixture.iot.send(
        new UpdateCertificateCommand({
          certificateId: device.certificateId,
          newStatus: 'INACTIVE',
        }),
      );
      await interrupted;
      // aws-crt's disconnect() never settles while it is reconnecting, so let it reconnect first.
      await fixture.iot.send(
        new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'ACTIVE' }),
      );
      await resumed;
    } finally {
      await connection.disconnect();
    }
  });

  it('is refused while its client id is inside the CONNECT window', async () => {
    const device = await createDevice(longWindow.iot, { statements: allowAll });
    const holder = await connectMqtt(mqttOptions(longWindow, device, 'crt-window'));
    const connection = crtConnection(device, 'crt-window', 60, longWindow);
    try {
      await expect(connection.connect()).rejects.toThrow();
      // Refused before the takeover: the connection that holds the id is untouched.
      await holder.publishAsync('crt-window/still-here', 'yes', { qos: 1 });
    } finally {
      await connection.disconnect().catch(() => undefined);
      await holder.endAsync();
    }
  });

  it('reconnects after restartBroker with its 1 s backoff under the default CONNECT window', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const connection = crtConnection(device, 'crt-restart', 1);
    const interrupted = new Promise<void>((resolve) => connection.on('interrupt', () => resolve()));
    const resumed = new Promise<void>((resolve) => connection.on('resume', () => resolve()));
    try {
      await connection.connect();
      await fixture.cloud.restartBroker();
      await interrupted;
      await resumed;
      const echoed = new Promise<string>((resolve) => {
        void connection.subscribe('crt-restart/echo', crtMqtt.QoS.AtLeastOnce, (_topic, payload) =>
          resolve(Buffer.from(payload).toString('utf8')),
        );
      });
      await connection.subscribe('crt-restart/ready', crtMqtt.QoS.AtLeastOnce);
      await connection.publish('crt-restart/echo', 'back', crtMqtt.QoS.AtLeastOnce);
      expect(await echoed).toBe('back');
    } finally {
      await connection.disconnect();
    }
  });
});

describe('MQTT broker limits (AWS IoT data-plane quotas)', () => {
  it('refuses a CONNECT inside the client id window with CONNACK 3 and keeps the first connection', async () => {
    const device = await createDevice(longWindow.iot, { statements: allowAll });
    const first = await connectMqtt(mqttOptions(longWindow, device, 'rate-1'));
    try {
      await expect(connectMqtt(mqttOptions(longWindow, device, 'rate-1'))).rejects.toMatchObject({
        code: 3,
        message: expect.stringMatching(/Server unavailable/i) as unknown,
      });
      // The refused CONNECT did not take the client id over.
      expect(first.connected).toBe(true);
      await first.publishAsync('rate/still-here', 'yes', { qos: 1 });
      // The window is per client id: the same certificate connects at once under another id.
      const other = await connectMqtt(mqttOptions(longWindow, device, 'rate-2'));
      await other.endAsync();
    } finally {
      first.end(true);
    }
  });

  it('counts only accepted CONNECTs: a refused one does not open the window', async () => {
    const denied = await createDevice(longWindow.iot, {
      statements: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/nobody` }],
    });
    const allowed = await createDevice(longWindow.iot, { statements: allowAll });
    await expect(connectMqtt(mqttOptions(longWindow, denied, 'rate-refused'))).rejects.toThrow(
      /Not authorized/i,
    );
    const client = await connectMqtt(mqttOptions(longWindow, allowed, 'rate-refused'));
    await client.endAsync();
  });

  it('accepts the client id again once the window has passed', async () => {
    const device = await createDevice(shortWindow.iot, { statements: allowAll });
    const first = await connectMqtt(mqttOptions(shortWindow, device, 'rate-later'));
    await first.endAsync();
    // Waiting out the window is the behaviour under test, not synchronisation. The broker
    // stamped the CONNECT before sending CONNACK, so this wait covers the whole window.
    await delay(shortWindowMs + 50);
    const again = await connectMqtt(mqttOptions(shortWindow, device, 'rate-later'));
    await again.endAsync();
  });

  it('routes a payload of exactly 128 KiB and disconnects a client that publishes more', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const publisher = await connectMqtt(mqttOptions(fixture, device, 'big-pub'));
    const listener = await connectMqtt(mqttOptions(fixture, device, 'big-sub'));
    try {
      await listener.subscribeAsync('big/#', { qos: 1 });
      const received: Array<[string, number]> = [];
      listener.on('message', (topic, payload) => received.push([topic, payload.length]));
      const largest = nextMessage(listener, 'big/largest');
      await publisher.publishAsync('big/largest', Buffer.alloc(MAX_PUBLISH_PAYLOAD_BYTES, 1), {
        qos: 1,
      });
      await largest;
      const gone = closed(publisher);
      publisher.publish('big/too-large', Buffer.alloc(MAX_PUBLISH_PAYLOAD_BYTES + 1, 1), {
        qos: 1,
      });
      await gone;
      expect(publisher.connected).toBe(false);
      // Anything routed from the refused publish would have arrived before this marker.
      const marker = nextMessage(listener, 'big/marker');
      await listener.publishAsync('big/marker', 'm', { qos: 1 });
      await marker;
      expect(received).toEqual([
        ['big/largest', MAX_PUBLISH_PAYLOAD_BYTES],
        ['big/marker', 1],
      ]);
    } finally {
      publisher.end(true);
      await listener.endAsync();
    }
  });
});
