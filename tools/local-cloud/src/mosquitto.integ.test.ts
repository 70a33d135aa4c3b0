import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  connectMqtt,
  nextMessage,
  startCloudFixture,
  type CloudFixture,
} from '../test/helpers';
import { startMosquitto, type MosquittoInstance } from './mosquitto';

let fixture: CloudFixture;
let broker: MosquittoInstance;
beforeAll(async () => {
  fixture = await startCloudFixture();
  broker = await startMosquitto(fixture.cloud);
});
afterAll(async () => {
  await broker?.stop();
  await fixture?.stop();
});

describe('startMosquitto', () => {
  it('serves MQTT 5 over mTLS with certificates from the local CA', async () => {
    const device = await createDevice(fixture.iot);
    const client = await connectMqtt({
      protocol: 'mqtts',
      host: '127.0.0.1',
      servername: 'localhost',
      port: broker.port,
      ca: fixture.ca,
      cert: device.certificatePem,
      key: device.privateKey,
      clientId: 'mqtt5-client',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    try {
      await client.subscribeAsync('v5/topic', { qos: 1 });
      const received = nextMessage(client, 'v5/topic');
      await client.publishAsync('v5/topic', 'five', {
        qos: 1,
        properties: { userProperties: { a: 'b' } },
      });
      expect(await received).toBe('five');
    } finally {
      await client.endAsync();
    }
  });

  it('refuses a client without a certificate', async () => {
    await expect(
      connectMqtt({
        protocol: 'mqtts',
        host: '127.0.0.1',
        servername: 'localhost',
        port: broker.port,
        ca: fixture.ca,
        protocolVersion: 5,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
  });
});
