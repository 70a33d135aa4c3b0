import { makeKeyPair } from '@thingcert/test-support';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caught, modeOf, tempDirPerTest } from '../test/temp-dir';
import { certificateIdOf } from './certificate-id';
import {
  claimedCredentialFiles,
  readClaimedCredentials,
  writeClaimedCertificate,
  writeClaimedRegistration,
  writeClaimKey,
} from './claimed-credential-store';

const pair = makeKeyPair('claimed');
const other = makeKeyPair('other');

describe('Module: claimed credential store', () => {
  const workDir = tempDirPerTest('claimed-store-');
  const files = () => claimedCredentialFiles(join(workDir(), 'device'));
  const registration = {
    thingName: 'fleet-i-1',
    certificateId: certificateIdOf(pair.certificatePem),
    templateName: 'fleet',
  };

  async function storeAll(certificatePem = pair.certificatePem): Promise<void> {
    await writeClaimKey(files(), pair.privateKeyPem);
    await writeClaimedCertificate(files(), certificatePem);
    await writeClaimedRegistration(files(), registration);
  }

  it('gives back a registered pair for its thing only', async () => {
    await storeAll();
    expect(await readClaimedCredentials(files(), 'fleet-i-1')).toEqual({
      ...registration,
      certPath: files().certPath,
      keyPath: files().keyPath,
    });
    expect(await readClaimedCredentials(files(), 'fleet-i-2')).toBeUndefined();
    expect(await modeOf(files().dir)).toBe(0o700);
    expect(await modeOf(files().registrationPath)).toBe(0o600);
  });

  it('has nothing on a first boot, after an unfinished claim, or with a torn registration', async () => {
    expect(await readClaimedCredentials(files(), 'fleet-i-1')).toBeUndefined();
    await writeClaimKey(files(), pair.privateKeyPem);
    await writeClaimedCertificate(files(), pair.certificatePem);
    expect(await readClaimedCredentials(files(), 'fleet-i-1')).toBeUndefined();
    await writeFile(files().registrationPath, '{"thingName":"fleet-i-1"', { mode: 0o600 });
    expect(await readClaimedCredentials(files(), 'fleet-i-1')).toBeUndefined();
  });

  it('starts a new claim without the old certificate or registration', async () => {
    await storeAll();
    await writeClaimKey(files(), other.privateKeyPem);
    expect(await readClaimedCredentials(files(), 'fleet-i-1')).toBeUndefined();
  });

  it('refuses a certificate that is not the registered one, and a key open to others', async () => {
    await storeAll();
    await writeClaimedRegistration(files(), { ...registration, certificateId: 'f'.repeat(64) });
    expect((await caught(readClaimedCredentials(files(), 'fleet-i-1'))).message).toMatch(
      /is not certificate f{64}/,
    );
    await writeClaimedRegistration(files(), registration);
    await chmod(files().keyPath, 0o644);
    expect((await caught(readClaimedCredentials(files(), 'fleet-i-1'))).name).toBe(
      'InsecureKeyFileError',
    );
  });
});
