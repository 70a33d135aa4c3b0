import { DeleteCertificateCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { iot as iotSdk, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowAll,
  closed,
  connectMqtt,
  createDevice,
  mqttOptions,
  nextMessage,
  startCloudFixture,
  type CloudFixture,
} from '../test/helpers';

let fixture: CloudFixture;
beforeAll(async () => {
  fixture = await startCloudFixture();
});
afterAll(async () => {
  await fixture.stop();
});

const arn = 'arn:aws:iot:us-east-1:000000000000';

describe('MQTT broker with mqtt.js (MQTT 3.1.1 over mTLS)', () => {
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

  it('drops the first connection when a second one uses the same client id', async () => {
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const first = await connectMqtt(mqttOptions(fixture, device, 'twin'));
    try {
      const gone = closed(first);
      const second = await connectMqtt(mqttOptions(fixture, device, 'twin'));
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
    const device = await createDevice(fixture.iot, { statements: allowAll });
    const port = fixture.cloud.mqtt.port;
    const client = await connectMqtt(mqttOptions(fixture, device, 'restart'));
    try {
      const gone = closed(client);
      await fixture.cloud.restartBroker();
      await gone;
      expect(fixture.cloud.mqtt.port).toBe(port);
      const again = await connectMqtt(mqttOptions(fixture, device, 'restart'));
      await again.endAsync();
    } finally {
      client.end(true);
    }
  });
});

describe('MQTT broker with aws-iot-device-sdk-v2 (MQTT 3.1.1)', () => {
  function crtConnection(
    device: { certificatePem: string; privateKey: string },
    clientId: string,
    reconnectSec = 60,
  ) {
    const config = iotSdk.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
      device.certificatePem,
      device.privateKey,
    )
      .with_certificate_authority(fixture.ca)
      .with_endpoint(fixture.cloud.mqtt.host)
      .with_port(fixture.cloud.mqtt.port)
      .with_client_id(clientId)
      .with_clean_session(true)
      .with_reconnect_min_sec(reconnectSec)
      .with_reconnect_max_sec(reconnectSec)
      .build();
    return new crtMqtt.MqttClient().new_connection(config);
  }

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
});
