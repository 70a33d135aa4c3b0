import {
  startLocalCloud,
  startMosquitto,
  type LocalCloud,
  type MosquittoInstance,
} from '@thingcert/local-cloud';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishThroughRotation } from '../test/publish-through-rotation';
import {
  provisionLocalDevice,
  provisionPointedDevice,
  rotatePointedDevice,
} from '@thingcert/test-support';
import { CredentialFollower } from './credential-follower';
import { CredentialPointerWatcher } from './credential-pointer-watcher';
import { DeviceConnection, type DeviceConnectionEventMap } from './device-connection';
import { fetchCredentials } from './fetch-credentials';
import { fetchPointedCredentials } from './fetch-pointed-credentials';
import { pubsub } from './pubsub';

describe('DeviceConnection over MQTT 5 (Debian mosquitto, mTLS)', () => {
  let cloud: LocalCloud;
  let mosquitto: MosquittoInstance;
  let work: string;

  beforeAll(async () => {
    cloud = await startLocalCloud();
    mosquitto = await startMosquitto(cloud);
    work = await mkdtemp(join(tmpdir(), 'device-client-mqtt5-'));
  });
  afterAll(async () => {
    await mosquitto?.stop();
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('connects with MQTT 5 by default and gets all 5 messages back', async () => {
    const device = await provisionLocalDevice(cloud);
    const credentials = await fetchCredentials({
      s3: device.s3,
      bucket: device.bucket,
      thing: device.thing,
      dir: join(work, device.thing),
    });
    const connection = new DeviceConnection({
      thingName: device.thing,
      endpoint: mosquitto.host,
      port: mosquitto.port,
      caPath: cloud.mqtt.caPath,
      certPath: credentials.certPath,
      keyPath: credentials.keyPath,
      connectTimeoutMs: 10_000,
    });
    const connected: Array<DeviceConnectionEventMap['connected']> = [];
    connection.on('connected', (event) => connected.push(event));
    try {
      await connection.start();
      const result = await pubsub(connection, { count: 5 });
      expect(result).toMatchObject({ published: 5, received: 5, complete: true });
    } finally {
      await connection.stop();
    }
    expect(connection.connectionTarget.protocol).toBe('mqtt5');
    expect(connected).toEqual([{ sessionPresent: false, reconnect: false }]);
  });

  it('follows a rotation over MQTT 5: one reconnect that rejoins the session, every message back', async () => {
    const device = await provisionPointedDevice(cloud);
    const options = {
      s3: device.s3,
      bucket: device.bucket,
      pointerKey: device.pointerKey,
      dir: join(work, device.thing),
    };
    const current = await fetchPointedCredentials(options);
    const watcher = new CredentialPointerWatcher(options, current);
    const connection = new DeviceConnection({
      thingName: device.thing,
      endpoint: mosquitto.host,
      port: mosquitto.port,
      caPath: cloud.mqtt.caPath,
      certPath: current.certPath,
      keyPath: current.keyPath,
      connectTimeoutMs: 10_000,
    });
    const follower = new CredentialFollower({ connection, watcher, checkIntervalMs: 200 });
    const connected: Array<DeviceConnectionEventMap['connected']> = [];
    connection.on('connected', (event) => connected.push(event));
    let rotatedId: string | undefined;
    try {
      await connection.start();
      follower.start();
      const { rotated } = await publishThroughRotation(connection, {
        topic: 'test/rotation5',
        count: 30,
        rotateAt: 8,
        rotate: () => rotatePointedDevice(device, device.certificateId),
      });
      rotatedId = rotated?.certificateId;
    } finally {
      follower.stop();
      await connection.stop();
    }
    expect(watcher.current.certificateId).toBe(rotatedId);
    expect(connected).toEqual([
      { sessionPresent: false, reconnect: false },
      { sessionPresent: true, reconnect: true },
    ]);
  });

  it('fails fast with a protocol hint when MQTT 5 meets the MQTT 3.1.1-only broker', async () => {
    const device = await provisionLocalDevice(cloud);
    const credentials = await fetchCredentials({
      s3: device.s3,
      bucket: device.bucket,
      thing: device.thing,
      dir: join(work, device.thing),
    });
    const connection = new DeviceConnection({
      thingName: device.thing,
      endpoint: cloud.dataEndpoint,
      port: cloud.mqtt.port,
      caPath: cloud.mqtt.caPath,
      certPath: credentials.certPath,
      keyPath: credentials.keyPath,
      connectTimeoutMs: 10_000,
    });
    try {
      await expect(connection.start()).rejects.toMatchObject({
        name: 'DeviceConnectionError',
        reason: 'protocol',
        message: expect.stringContaining('--protocol mqtt3') as unknown,
      });
    } finally {
      await connection.stop();
    }
  });
});
