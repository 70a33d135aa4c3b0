import {
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
} from '@aws-sdk/client-iot';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { findSecretLeaks, provisionClaimFleet, type ClaimFleet } from '@thingcert/test-support';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_REGISTRATION_REJECTED } from './exit-codes';
import { jsonEvents, runProcess } from '../test/run-process';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOOK = 'arn:aws:lambda:us-east-1:000000000000:function:fleet-hook';

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('device-runner provisioning by claim against the local cloud (the EC2 bundle)', () => {
  let cloud: LocalCloud;
  let work: string;
  let runner: string;
  let fleet: ClaimFleet;

  beforeAll(async () => {
    cloud = await startLocalCloud();
    work = await mkdtemp(join(tmpdir(), 'device-runner-claim-'));
    // A copy outside the repository, as on an instance.
    await cp(join(appDir, 'dist', 'bundle'), join(work, 'opt'), { recursive: true });
    runner = join(work, 'opt', 'device-runner.mjs');
    fleet = await provisionClaimFleet(cloud);
  });
  afterAll(async () => {
    await cloud?.stop();
    await rm(work, { recursive: true, force: true });
  });

  function env(of: LocalCloud = cloud): Record<string, string | undefined> {
    return {
      PATH: process.env.PATH,
      HOME: work,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...of.env,
    };
  }

  /** `run` in claim mode for `deviceId` of `of`, its credentials in `<work>/<deviceId>`. */
  function claimArgs(of: ClaimFleet, deviceId: string, ...extra: string[]): string[] {
    return [
      'run',
      '--bucket',
      of.claim.bucket,
      '--claim-template',
      of.templateName,
      '--claim-pointer-key',
      of.claim.pointerKey,
      '--thing-name-prefix',
      of.thingNamePrefix,
      '--device-id',
      deviceId,
      '--endpoint',
      cloud.dataEndpoint,
      '--credentials-dir',
      join(work, deviceId),
      ...extra,
    ];
  }

  async function certificateCount(): Promise<number> {
    return (await fleet.iot.send(new ListCertificatesCommand({}))).certificates?.length ?? 0;
  }

  it('registers the device with a key made on it, deletes the claim, publishes as the thing; a restart reuses its certificate', async () => {
    const thingName = `${fleet.thingNamePrefix}dev-1`;
    const first = await runProcess(runner, claimArgs(fleet, 'dev-1', '--json'), {
      env: env(),
      cwd: work,
    });

    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const events = jsonEvents(first.stdout);
    expect(events.map((event) => event.event).slice(0, 6)).toEqual([
      'credentials',
      'claim-connected',
      'certificate-created',
      'registered',
      'claim-removed',
      'connecting',
    ]);
    const registered = events.find((event) => event.event === 'registered')!;
    expect(registered).toMatchObject({ thingName, confirmedBy: 'reply' });
    const certificateId = String(registered.certificateId);
    expect(events.find((event) => event.event === 'connecting')).toMatchObject({
      clientId: thingName,
    });
    expect(events.at(-3)).toMatchObject({ event: 'done', received: 5, expected: 5 });

    await fleet.iot.send(new DescribeThingCommand({ thingName }));
    const principals = await fleet.iot.send(new ListThingPrincipalsCommand({ thingName }));
    const described = await fleet.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('ACTIVE');
    expect(principals.principals).toEqual([described.certificateDescription?.certificateArn]);

    const own = join(work, 'dev-1', 'device');
    expect((await stat(own)).mode & 0o777).toBe(0o700);
    expect((await stat(join(own, 'private.pem.key'))).mode & 0o777).toBe(0o600);
    await expect(stat(join(work, 'dev-1', 'claim'))).rejects.toThrow(/ENOENT/);
    const key = await readFile(join(own, 'private.pem.key'), 'utf8');
    const output = first.stdout + first.stderr;
    expect(findSecretLeaks(output, [key, fleet.claim.privateKeyPem])).toEqual([]);

    const before = await certificateCount();
    // AWS IoT (and the local cloud) accept one CONNECT per second per client id, and refuse
    // the next with a CONNACK that aws-crt cannot tell from "not authorized": restart as
    // systemd would (RestartSec is 5–15 s), not within the second of the last connect.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const second = await runProcess(runner, claimArgs(fleet, 'dev-1', '--json', '--count', '2'), {
      env: env(),
      cwd: work,
    });
    expect(second.code).toBe(0);
    const again = jsonEvents(second.stdout);
    expect(again[0]).toMatchObject({ event: 'credentials', source: 'claimed', certificateId });
    expect(again.map((event) => event.event)).not.toContain('claim-connected');
    expect(again.at(-3)).toMatchObject({ event: 'done', received: 2 });
    expect(await certificateCount()).toBe(before);
  });

  it('names the missing claim credentials and the fix, provisioning nothing, when the claim pointer is absent', async () => {
    const before = await certificateCount();
    const args = claimArgs(fleet, 'dev-no-claim');
    args[args.indexOf('--claim-pointer-key') + 1] = 'fleet-claim/absent/current.json';
    const result = await runProcess(runner, args, { env: env(), cwd: work });
    // A runtime failure (restarted by systemd: the claim may be deployed later), not a refusal.
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*s3:\/\/[^ ]+\/fleet-claim\/absent\/current\.json/m);
    expect(result.stderr).toMatch(/do not exist: check --claim-pointer-key and --bucket/);
    expect(result.stdout + result.stderr).not.toMatch(/PRIVATE KEY/);
    expect(await certificateCount()).toBe(before);
    await expect(stat(join(work, 'dev-no-claim', 'device', 'registration.json'))).rejects.toThrow(
      /ENOENT/,
    );
  });

  it('exits 77 with the reason when the pre-provisioning hook denies the device, and records no registration', async () => {
    const hooked = await provisionClaimFleet(cloud, { hookArn: HOOK });
    cloud.fleetProvisioning.setLambdaInvoker(() => Promise.resolve({ allowProvisioning: false }));
    try {
      const result = await runProcess(runner, claimArgs(hooked, 'dev-denied'), {
        env: env(),
        cwd: work,
      });
      expect(result.code).toBe(EXIT_REGISTRATION_REJECTED);
      expect(result.stderr).toMatch(/^error: RegisterThing was rejected \(403 AccessDenied\): /m);
      await expect(stat(join(work, 'dev-denied', 'device', 'registration.json'))).rejects.toThrow(
        /ENOENT/,
      );
    } finally {
      cloud.fleetProvisioning.setLambdaInvoker(undefined);
    }
  });

  it('settles a RegisterThing whose reply was lost in a broker restart by connecting as the thing', async () => {
    const hooked = await provisionClaimFleet(cloud, { hookArn: HOOK });
    // The registration goes through; its reply goes to a connection the restart closed.
    cloud.fleetProvisioning.setLambdaInvoker(async () => {
      await cloud.restartBroker();
      return { allowProvisioning: true };
    });
    try {
      const result = await runProcess(runner, claimArgs(hooked, 'dev-lost', '--json'), {
        env: env(),
        cwd: work,
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const events = jsonEvents(result.stdout);
      const unconfirmed = events.find((event) => event.event === 'registration-unconfirmed');
      expect(unconfirmed).toBeDefined();
      expect(events.find((event) => event.event === 'registered')).toMatchObject({
        thingName: `${hooked.thingNamePrefix}dev-lost`,
        certificateId: unconfirmed?.certificateId,
        confirmedBy: 'connect',
      });
      expect(events.map((event) => event.event)).toContain('claim-removed');
      expect(events.at(-3)).toMatchObject({ event: 'done', received: 5 });
      await stat(join(work, 'dev-lost', 'device', 'registration.json'));
    } finally {
      cloud.fleetProvisioning.setLambdaInvoker(undefined);
    }
  });

  it('retries a throttled RegisterThing when devices boot together, and all register', async () => {
    // RegisterThing at one request per 5 s: of two devices asking at once, one is throttled.
    const slow = await startLocalCloud({ throttle: { 'fleet:RegisterThing': 0.2 } });
    try {
      const slowFleet = await provisionClaimFleet(slow);
      const runs = await Promise.all(
        ['dev-a', 'dev-b'].map((id) =>
          runProcess(runner, claimArgs(slowFleet, id, '--json', '--count', '1'), {
            env: env(slow),
            cwd: work,
          }),
        ),
      );
      expect(runs.map((run) => run.code)).toEqual([0, 0]);
      const retried = runs.flatMap((run) =>
        jsonEvents(run.stdout).filter((event) => event.event === 'registration-retrying'),
      );
      expect(retried[0]).toMatchObject({
        operation: 'RegisterThing',
        statusCode: 429,
        errorCode: 'ThrottlingException',
      });
    } finally {
      await slow.stop();
    }
  });
});
