import { certificateIdOf } from '@thingcert/device-client';
import { findSecretLeaks, makeKeyPair } from '@thingcert/test-support';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fakeClaim, type FakeClaimAnswer } from '../test/fake-claim-session';
import { deps, provisioned, stubS3 } from '../test/main-harness';
import { EXIT_FAILURE, EXIT_REGISTRATION_REJECTED, EXIT_SUCCESS } from './exit-codes';
import { main } from './main';

const claimPair = makeKeyPair('claim');
const ownPair = makeKeyPair('own');
const THING = 'fleet-i-1';

type Event = Record<string, unknown> & { event: string };

describe('Function: main in claim mode', () => {
  /** Runs `main` in claim mode for device `i-1`, the claim objects in a stub bucket. */
  async function runClaim(answer: FakeClaimAnswer, prepare?: (dir: string) => Promise<void>) {
    const dir = await mkdtemp(join(tmpdir(), 'device-runner-claim-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await prepare?.(dir);
    const claim = provisioned(claimPair, 'claim');
    const s3Calls: string[] = [];
    const objects = { ...claim.objects, 'claim/current.json': claim.pointer };
    const fake = fakeClaim(answer);
    const harness = deps();
    const argv = [
      'run', '--endpoint', 'localhost', '--bucket', 'certs', '--json', '--count', '1',
      '--claim-template', 'fleet', '--claim-pointer-key', 'claim/current.json',
      '--thing-name-prefix', 'fleet-', '--device-id', 'i-1', '--credentials-dir', dir,
    ]; // prettier-ignore
    const code = await main(argv, {
      ...harness.deps,
      createS3: () => stubS3(objects, s3Calls),
      connectClaim: fake.connectClaim,
    });
    const events = harness.stdout
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Event);
    return {
      code,
      events,
      dir,
      fake,
      s3Calls,
      output: harness.stdout.join('') + harness.stderr.join(''),
    };
  }

  const denied: FakeClaimAnswer = {
    rejected: { statusCode: 403, errorCode: 'AccessDenied', errorMessage: 'not in this fleet' },
  };

  it('exits 77 with the reason when AWS IoT refuses for good, after closing the claim connection', async () => {
    const { code, events, fake, dir, output } = await runClaim(denied);

    expect(code).toBe(EXIT_REGISTRATION_REJECTED);
    expect(events.at(-2)).toEqual(
      expect.objectContaining({
        event: 'registration-rejected',
        operation: 'CreateCertificateFromCsr',
        statusCode: 403,
        errorCode: 'AccessDenied',
        errorMessage: 'not in this fleet',
      }),
    );
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      kind: 'user',
      message: 'CreateCertificateFromCsr was rejected (403 AccessDenied): not in this fleet',
    });
    expect(fake.connected).toHaveLength(1);
    expect(fake.connected[0]?.clientId).toBe(THING);
    expect(fake.connected[0]?.certPath.startsWith(join(dir, 'claim'))).toBe(true);
    expect(fake.closed()).toBe(1);
    expect(findSecretLeaks(output, [claimPair.privateKeyPem])).toEqual([]);
  });

  it('exits 1 when the claim connection drops before it has a certificate (a restart provisions again)', async () => {
    const { code, events } = await runClaim('interrupt');
    expect(code).toBe(EXIT_FAILURE);
    expect(events.at(-1)).toMatchObject({ event: 'error', kind: 'user' });
    expect(String(events.at(-1)?.message)).toMatch(
      /^The claim connection was interrupted during CreateCertificateFromCsr/,
    );
  });

  /** What an earlier run left: its own registered pair, and a claim folder it could not delete. */
  async function registeredEarlier(dir: string): Promise<void> {
    const own = join(dir, 'device');
    await mkdir(own, { mode: 0o700 });
    await writeFile(join(own, 'private.pem.key'), ownPair.privateKeyPem, { mode: 0o600 });
    await writeFile(join(own, 'device.pem.crt'), ownPair.certificatePem, { mode: 0o600 });
    const certificateId = certificateIdOf(ownPair.certificatePem);
    const registration = { thingName: THING, certificateId, templateName: 'fleet' };
    await writeFile(join(own, 'registration.json'), JSON.stringify(registration), { mode: 0o600 });
    await mkdir(join(dir, 'claim'), { mode: 0o700 });
  }

  it('connects with its registered certificate on a restart: no claim, no S3, the leftover claim deleted', async () => {
    const { code, events, fake, s3Calls, dir } = await runClaim(denied, registeredEarlier);

    expect(code).toBe(EXIT_SUCCESS);
    expect(events[0]).toMatchObject({
      event: 'credentials',
      source: 'claimed',
      certificateId: certificateIdOf(ownPair.certificatePem),
    });
    expect(events.find((event) => event.event === 'connecting')).toMatchObject({ clientId: THING });
    expect(fake.connected).toEqual([]);
    expect(s3Calls).toEqual([]);
    await expect(stat(join(dir, 'claim'))).rejects.toThrow(/ENOENT/);
  });
});
