import { DescribeCertificateCommand, ListThingPrincipalsCommand } from '@aws-sdk/client-iot';
import { fleetThingName } from '@thingcert/contracts';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { provisionClaimFleet, type ClaimFleet } from '@thingcert/test-support';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimConnection } from './claim-connection';
import {
  provisionByClaim,
  type ClaimProvisioningEvent,
  type ProvisionByClaimOptions,
} from './claim-provisioning';
import { readClaimedCredentials, claimedCredentialFiles } from './claimed-credential-store';
import { DeviceConnection } from './device-connection';
import { ClaimRejectedError, ClaimReplyLostError } from './errors';
import { fetchPointedCredentials } from './fetch-pointed-credentials';
import { pubsub } from './pubsub';

const HOOK = 'arn:aws:lambda:us-east-1:000000000000:function:fleet-hook';

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('provisionByClaim against the local cloud (aws-iot-device-sdk-v2 iotidentity, MQTT 3.1.1)', () => {
  let cloud: LocalCloud;
  let work: string;
  let fleet: ClaimFleet;
  let hooked: ClaimFleet;
  let hook: () => Promise<unknown> = () => Promise.resolve({ allowProvisioning: true });
  let devices = 0;

  beforeAll(async () => {
    // RegisterThing at one request per 4 s: two registrations in a row are throttled.
    cloud = await startLocalCloud({
      throttle: { 'fleet:RegisterThing': 0.25 },
      lambdaInvoker: () => hook(),
    });
    work = await mkdtemp(join(tmpdir(), 'device-client-claim-'));
    fleet = await provisionClaimFleet(cloud);
    hooked = await provisionClaimFleet(cloud, { hookArn: HOOK });
  });
  afterAll(async () => {
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  /** Connects with `of`'s claim certificate (read through its pointer) as the thing a new device will ask for. */
  async function claimConnection(of: ClaimFleet) {
    const thingName = fleetThingName(of.thingNamePrefix, `device-${++devices}`);
    const credentials = await fetchPointedCredentials({
      s3: of.s3,
      bucket: of.claim.bucket,
      pointerKey: of.claim.pointerKey,
      dir: join(work, thingName, 'claim'),
    });
    const connection = await ClaimConnection.connect({
      endpoint: cloud.dataEndpoint,
      port: cloud.mqtt.port,
      caPath: cloud.mqtt.caPath,
      clientId: thingName,
      certPath: credentials.certPath,
      keyPath: credentials.keyPath,
      connectTimeoutMs: 10_000,
    });
    return { connection, thingName };
  }

  /** Provisions one device of `of` and closes its claim connection. */
  async function provision(of: ClaimFleet, extra: Partial<ProvisionByClaimOptions> = {}) {
    const { connection, thingName } = await claimConnection(of);
    const events: ClaimProvisioningEvent[] = [];
    const dir = join(work, thingName, 'device');
    try {
      const result = provisionByClaim(connection, {
        templateName: of.templateName,
        thingName,
        dir,
        onEvent: (event) => events.push(event),
        ...extra,
      });
      return { result: await result, events, thingName, dir };
    } catch (error) {
      return { error, events, thingName, dir };
    } finally {
      await connection.close();
    }
  }

  it('registers the thing with a certificate for a key made here, stored 0600 in 0700; it then connects as itself', async () => {
    const { result, thingName, dir } = await provision(fleet);

    expect(result).toMatchObject({ thingName, deviceConfiguration: {} });
    const { certificateId } = result!;
    const described = await fleet.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('ACTIVE');
    const principals = await fleet.iot.send(new ListThingPrincipalsCommand({ thingName }));
    expect(principals.principals).toEqual([described.certificateDescription?.certificateArn]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(result!.keyPath)).mode & 0o777).toBe(0o600);
    expect(await readClaimedCredentials(claimedCredentialFiles(dir), thingName)).toMatchObject({
      thingName,
      certificateId,
      templateName: fleet.templateName,
    });

    const device = new DeviceConnection({
      thingName,
      endpoint: cloud.dataEndpoint,
      port: cloud.mqtt.port,
      caPath: cloud.mqtt.caPath,
      certPath: result!.certPath,
      keyPath: result!.keyPath,
      protocol: 'mqtt3',
      connectTimeoutMs: 10_000,
    });
    try {
      await device.start();
      const run = await pubsub(device, { topic: 'test/claimed', count: 2, timeoutMs: 10_000 });
      expect(run).toMatchObject({ complete: true, received: 2 });
    } finally {
      await device.stop();
    }
  });

  it('retries a throttled RegisterThing with the same token until it is accepted', async () => {
    // The previous registration may have taken the only token; make sure of it.
    await provision(fleet);
    const { result, events, thingName } = await provision(fleet, {
      minRetryDelayMs: 500,
      maxRetryDelayMs: 2_000,
    });

    expect(result?.thingName).toBe(thingName);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'retrying',
        operation: 'RegisterThing',
        statusCode: 429,
        errorCode: 'ThrottlingException',
      }),
    );
  });

  it('registers when the hook failed once: the AccessDenied is asked again with the same token', async () => {
    let calls = 0;
    hook = () =>
      ++calls === 1
        ? Promise.reject(new Error('cold start'))
        : Promise.resolve({ allowProvisioning: true });
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // a RegisterThing token
    const { result, events } = await provision(hooked, { accessDeniedRetryDelayMs: 200 });

    expect(result?.thingName).toMatch(new RegExp(`^${hooked.thingNamePrefix}`));
    expect(calls).toBe(2);
    // Throttled retries (this cloud allows one RegisterThing per 4 s) are reported too.
    expect(events.filter((event) => event.type === 'retrying' && event.statusCode === 403)).toEqual(
      [expect.objectContaining({ operation: 'RegisterThing', statusCode: 403, attempt: 1 })],
    );
  });

  it('fails with the rejection after its bounded retries when the hook denies the device', async () => {
    let calls = 0;
    hook = () => {
      calls++;
      return Promise.resolve({ allowProvisioning: false });
    };
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // a RegisterThing token
    const { error, events, dir } = await provision(hooked, {
      accessDeniedRetryDelayMs: 200,
      accessDeniedRetries: 1, // the default's count is the unit test's; this cloud is slow to refill
    });
    expect(calls).toBe(2);

    expect(error).toBeInstanceOf(ClaimRejectedError);
    expect(error).toMatchObject({
      operation: 'RegisterThing',
      statusCode: 403,
      errorCode: 'AccessDenied',
    });
    expect((error as Error).message).toMatch(/^RegisterThing was rejected \(403 AccessDenied\): /);
    expect(
      events.filter((event) => event.type === 'retrying' && event.statusCode === 403),
    ).toHaveLength(1);
    // The key and certificate stay (the certificate dies pending); no registration is recorded.
    await expect(readFile(join(dir, 'registration.json'))).rejects.toThrow(/ENOENT/);
  });

  it('reports a lost reply, naming the certificate, when the connection drops during RegisterThing', async () => {
    hook = async () => {
      await cloud.restartBroker();
      return { allowProvisioning: true };
    };
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // a RegisterThing token
    const { error, events } = await provision(hooked);

    expect(error).toBeInstanceOf(ClaimReplyLostError);
    const created = events.find((event) => event.type === 'certificate-created');
    expect(error).toMatchObject({
      operation: 'RegisterThing',
      certificateId: created?.type === 'certificate-created' ? created.certificateId : 'none',
    });
  });
});
