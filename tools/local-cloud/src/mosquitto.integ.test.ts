import { DeleteCertificateCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import mqtt, { type IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closed,
  createDevice,
  connectMqtt,
  nextMessage,
  startCloudFixture,
  type CloudFixture,
  type Device,
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

/** mqtt.js options for an MQTT 5 mTLS connection through the gate, without reconnects. */
function mqtt5(device: Device, clientId: string, extra: IClientOptions = {}): IClientOptions {
  return {
    protocol: 'mqtts',
    host: '127.0.0.1',
    servername: 'localhost',
    port: broker.port,
    ca: fixture.ca,
    cert: device.certificatePem,
    key: device.privateKey,
    clientId,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...extra,
  };
}

describe('startMosquitto', () => {
  it('serves MQTT 5 over mTLS with certificates from the local CA', async () => {
    const device = await createDevice(fixture.iot);
    const client = await connectMqtt(mqtt5(device, 'mqtt5-client'));
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

  describe("AWS IoT's certificate rules (the gate in front of mosquitto)", () => {
    it('refuses a certificate that is INACTIVE, and one that is not registered (deleted)', async () => {
      const inactive = await createDevice(fixture.iot, { active: false });
      await expect(connectMqtt(mqtt5(inactive, 'inactive-client'))).rejects.toThrow();

      const unregistered = await createDevice(fixture.iot);
      await fixture.iot.send(
        new UpdateCertificateCommand({
          certificateId: unregistered.certificateId,
          newStatus: 'INACTIVE',
        }),
      );
      await fixture.iot.send(
        new DeleteCertificateCommand({ certificateId: unregistered.certificateId }),
      );
      await expect(connectMqtt(mqtt5(unregistered, 'unregistered-client'))).rejects.toThrow();

      // The same certificate once ACTIVE is let through.
      await fixture.iot.send(
        new UpdateCertificateCommand({
          certificateId: inactive.certificateId,
          newStatus: 'ACTIVE',
        }),
      );
      const client = await connectMqtt(mqtt5(inactive, 'inactive-client'));
      await client.endAsync();
    });

    it('drops a live connection the moment its certificate is set INACTIVE, and refuses it after', async () => {
      const device = await createDevice(fixture.iot);
      const bystander = await createDevice(fixture.iot);
      const client = await connectMqtt(mqtt5(device, 'dropped-client'));
      const other = await connectMqtt(mqtt5(bystander, 'bystander-client'));
      try {
        const dropped = closed(client);
        const started = Date.now();
        await fixture.iot.send(
          new UpdateCertificateCommand({
            certificateId: device.certificateId,
            newStatus: 'INACTIVE',
          }),
        );
        await dropped;
        expect(Date.now() - started).toBeLessThan(2000);
        expect(other.connected).toBe(true);
        await expect(connectMqtt(mqtt5(device, 'dropped-client'))).rejects.toThrow();
      } finally {
        client.end(true);
        await other.endAsync();
      }
    });

    it('keeps the MQTT 5 session across the gate: session present and the QoS 1 message queued meanwhile', async () => {
      const device = await createDevice(fixture.iot);
      const publisher = await createDevice(fixture.iot);
      const persistent = {
        clean: false,
        properties: { sessionExpiryInterval: 300 },
      } satisfies IClientOptions;
      const first = await connectMqtt(mqtt5(device, 'session-client', persistent));
      await first.subscribeAsync('v5/session', { qos: 1 });
      await first.endAsync();

      const sender = await connectMqtt(mqtt5(publisher, 'session-publisher'));
      await sender.publishAsync('v5/session', 'while away', { qos: 1 });
      await sender.endAsync();

      const back = mqtt5(device, 'session-client', persistent);
      const again = await new Promise<{ sessionPresent: boolean; message: Promise<string> }>(
        (resolve, reject) => {
          const client = mqtt.connect(back);
          const message = new Promise<string>((resolveMessage) =>
            client.once('message', (_topic, payload) => resolveMessage(payload.toString())),
          );
          client.once('connect', (connack) => {
            resolve({ sessionPresent: connack.sessionPresent, message });
            void message.then(() => client.endAsync());
          });
          client.once('error', reject);
        },
      );
      expect(again.sessionPresent).toBe(true);
      expect(await again.message).toBe('while away');
    });
  });
});
