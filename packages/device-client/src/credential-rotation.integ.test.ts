import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import {
  findSecretLeaks,
  provisionPointedDevice,
  rotatePointedDevice,
  type PointedDevice,
} from '@thingcert/test-support';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishThroughRotation } from '../test/publish-through-rotation';
import { CredentialFollower, type CredentialFollowerEvent } from './credential-follower';
import { CredentialPointerWatcher } from './credential-pointer-watcher';
import { DeviceConnection } from './device-connection';
import {
  fetchPointedCredentials,
  type FetchPointedCredentialsOptions,
} from './fetch-pointed-credentials';

describe('Credential rotation against the local cloud (real S3 and IoT clients, MQTT 3.1.1 over TLS)', () => {
  let cloud: LocalCloud;
  let work: string;
  const brokerLog: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    cloud = await startLocalCloud({
      log: (line) => brokerLog.push(JSON.parse(line) as Record<string, unknown>),
    });
    work = await mkdtemp(join(tmpdir(), 'device-client-rotation-'));
  });
  afterAll(async () => {
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  function optionsFor(device: PointedDevice): FetchPointedCredentialsOptions {
    return {
      s3: device.s3,
      bucket: device.bucket,
      pointerKey: device.pointerKey,
      dir: join(work, device.thing),
    };
  }

  it('reads through the pointer and watches it with conditional GETs the local S3 answers 304', async () => {
    const device = await provisionPointedDevice(cloud);
    const options = optionsFor(device);
    const current = await fetchPointedCredentials(options);
    expect(current.certificateId).toBe(device.certificateId);
    const watcher = new CredentialPointerWatcher(options, current);
    expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
    const rotated = await rotatePointedDevice(device, device.certificateId);
    const result = await watcher.check();
    expect(result).toMatchObject({
      outcome: 'changed',
      credentials: { certificateId: rotated.certificateId },
    });
    if (result.outcome === 'changed') await watcher.adopt(result.credentials);
    expect(await readdir(options.dir)).toEqual([rotated.certificateId]);
    expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
  });

  it('moves a live connection to the rotated certificate: one reconnect, every QoS 1 message back', async () => {
    const device = await provisionPointedDevice(cloud);
    const options = optionsFor(device);
    const current = await fetchPointedCredentials(options);
    const watcher = new CredentialPointerWatcher(options, current);
    const connection = new DeviceConnection({
      thingName: device.thing,
      endpoint: cloud.dataEndpoint,
      port: cloud.mqtt.port,
      caPath: cloud.mqtt.caPath,
      certPath: current.certPath,
      keyPath: current.keyPath,
      protocol: 'mqtt3',
      connectTimeoutMs: 10_000,
    });
    const events: CredentialFollowerEvent[] = [];
    const follower = new CredentialFollower({
      connection,
      watcher,
      checkIntervalMs: 200,
      onEvent: (event) => events.push(event),
    });
    const connects: boolean[] = [];
    connection.on('connected', ({ sessionPresent }) => connects.push(sessionPresent));
    let outcome;
    try {
      await connection.start();
      follower.start();
      outcome = await publishThroughRotation(connection, {
        topic: 'test/rotation',
        count: 40,
        rotateAt: 10,
        rotate: () => rotatePointedDevice(device, device.certificateId),
      });
    } finally {
      follower.stop();
      await connection.stop();
    }
    const { received, sent, rotated } = outcome;
    expect([...received].sort()).toEqual([...sent].sort());
    expect(watcher.current.certificateId).toBe(rotated?.certificateId);
    // Whether the broker dropped the old certificate (then refused a reconnect
    // with it) before the pointer check moved the connection is a matter of timing.
    expect(events.filter((e) => e.type === 'credentials-changed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'check-failed')).toEqual([]);
    // The first connect and exactly one more, which resumed the session.
    expect(connects).toEqual([false, true]);
    const accepted = brokerLog.filter(
      (l) => l['event'] === 'connected' && l['clientId'] === device.thing,
    );
    expect(accepted.map((l) => l['certificateId'])).toEqual([
      device.certificateId,
      rotated?.certificateId,
    ]);
    expect(
      findSecretLeaks(JSON.stringify(events), [device.privateKeyPem, rotated?.privateKeyPem ?? '']),
    ).toEqual([]);
  });
});
