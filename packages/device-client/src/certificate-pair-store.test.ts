import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirPerTest } from '../test/temp-dir';
import { removeOtherCertificatePairs, writeCertificatePair } from './certificate-pair-store';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('Function: removeOtherCertificatePairs', () => {
  const workDir = tempDirPerTest('pair-store-');

  it('keeps one certificate, removes the others and crash leftovers, leaves the rest alone', async () => {
    const work = workDir();
    await writeCertificatePair(work, A, 'cert a', 'key a');
    await writeCertificatePair(work, B, 'cert b', 'key b');
    await mkdir(join(work, `.${A}.new.123.abcd1234.tmp`));
    await writeFile(join(work, 'device.pem.crt'), 'a file of the fixed-keys mode');
    await removeOtherCertificatePairs(work, B);
    expect((await readdir(work)).sort()).toEqual([B, 'device.pem.crt']);
    expect((await readdir(join(work, B))).sort()).toEqual(['device.pem.crt', 'private.pem.key']);
  });
});

describe('Function: writeCertificatePair', () => {
  it('refuses an id that is not 64 hex digits, since it becomes a path', async () => {
    await expect(writeCertificatePair(tmpdir(), '../x', 'c', 'k')).rejects.toMatchObject({
      name: 'CredentialsError',
      reason: 'invalid-pointer',
    });
  });
});
