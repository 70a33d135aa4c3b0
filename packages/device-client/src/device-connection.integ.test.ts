import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionLocalDevice, seedPolicy, type LocalDevice } from '@thingcert/test-support';
import { DeviceConnection, type DeviceConnectionOptions } from './device-connection';
import { fetchCredentials, type DeviceCredentials } from './fetch-credentials';
import { pubsub } from './pubsub';

describe('DeviceConnection against the local cloud (MQTT 3.1.1)', () => {
  let cloud: LocalCloud;
  let work: string;

  beforeAll(async () => {
    cloud = await startLocalCloud();
    work = await mkdtemp(join(tmpdir(), 'device-client-integ-'));
  });
  afterAll(async () => {
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function credentialsFor(device: LocalDevice): Promise<DeviceCredentials> {
    return fetchCredentials({
      s3: device.s3,
      bucket: device.bucket,
      thing: device.thing,
      dir: join(work, device.thing),
    });
  }

  function connectionFor(
    device: LocalDevice,
    credentials: DeviceCredentials,
    extra: Partial<DeviceConnectionOptions> = {},
  ): DeviceConnection {
    return new DeviceConnection({
      thingName: device.thing,
      endpoint: cloud.dataEndpoint,
      port: cloud.mqtt.port,
      caPath: cloud.mqtt.caPath,
      certPath: credentials.certPath,
      keyPath: credentials.keyPath,
      protocol: 'mqtt3',
      connectTimeoutMs: 10_000,
      ...extra,
    });
  }

  it('runs the seed scenario: credentials from S3, connect, 5 messages out and back', async () => {
    const device = await provisionLocalDevice(cloud);
    const credentials = await credentialsFor(device);
    const connection = connectionFor(device, credentials);
    const received: string[] = [];
    try {
      await connection.start();
      const result = await pubsub(connection, {
        topic: 'test/topic',
        count: 5,
        onReceived: ({ text }) => received.push(text),
      });
      expect(result).toMatchObject({ expected: 5, published: 5, received: 5, complete: true });
      expect(received.sort()).toEqual([1, 2, 3, 4, 5].map((i) => `"Hello World! [${i}]"`));
    } finally {
      await connection.stop();
    }
    expect(connection.state).toBe('stopped');
  });

  it('is refused with a named error when the certificate is INACTIVE', async () => {
    const device = await provisionLocalDevice(cloud);
    const credentials = await credentialsFor(device);
    await device.iot.send(
      new UpdateCertificateCommand({ certificateId: device.certificateId, newStatus: 'INACTIVE' }),
    );
    const connection = connectionFor(device, credentials);
    try {
      await expect(connection.start()).rejects.toMatchObject({
        name: 'DeviceConnectionError',
        reason: 'rejected',
        message: expect.stringContaining('registered and ACTIVE') as unknown,
      });
    } finally {
      await connection.stop();
    }
    expect(connection.state).toBe('stopped');
  });

  it('rejects a publish on a topic the policy denies with OperationDeniedError', async () => {
    const device = await provisionLocalDevice(cloud, { policy: seedPolicy(cloud, 'test/*') });
    const credentials = await credentialsFor(device);
    // One drop is enough here; the default (2) tolerates a broker restart.
    const connection = connectionFor(device, credentials, { deniedAfterDisconnects: 1 });
    try {
      await connection.start();
      await connection.publish('test/allowed', 'ok');
      await expect(connection.publish('forbidden/topic', 'no')).rejects.toMatchObject({
        name: 'OperationDeniedError',
        operation: 'publish',
        topic: 'forbidden/topic',
      });
    } finally {
      await connection.stop();
    }
  });

  it('loses no QoS 1 message when the broker restarts mid-run', async () => {
    const device = await provisionLocalDevice(cloud);
    const credentials = await credentialsFor(device);
    const connection = connectionFor(device, credentials, { minReconnectDelayMs: 100 });
    const reconnected = new Promise<void>((resolve) => {
      connection.on('connected', ({ reconnect }) => {
        if (reconnect) resolve();
      });
    });
    let restarted: Promise<void> | undefined;
    try {
      await connection.start();
      const result = await pubsub(connection, {
        topic: 'test/restart',
        count: 200,
        window: 10,
        onPublished: (index) => {
          if (index === 50) restarted = cloud.restartBroker();
        },
      });
      await restarted;
      await reconnected;
      expect(result.published).toBe(200);
      expect(result.received).toBe(result.published);
    } finally {
      await connection.stop();
    }
  });
});
