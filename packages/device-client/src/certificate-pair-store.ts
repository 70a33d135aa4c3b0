import { DEFAULT_CREDENTIAL_FILE_NAMES } from '@thingcert/contracts';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isCertificateId } from './certificate-id';
import { CredentialsError } from './errors';
import { ensurePrivateDirectory } from './key-file-permissions';
import { writeFileAtomic } from './write-file-atomic';

/** Where one certificate's pair is on disk. */
export interface CertificatePairFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

/** Staging and replaced directories: hidden, and recognisable as ours to clean up. */
const SCRATCH = /^\.[0-9a-f]{64}\.[\w.-]+\.tmp$/;

function scratchName(certificateId: string, what: string): string {
  return `.${certificateId}.${what}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Writes a certificate and its private key into `<dir>/<certificateId>/`
 * (directories 0700, files 0600) so that the pair appears at once or not at
 * all: both files go into a hidden staging directory first, which is then
 * renamed into place. A device (or a restart after a crash) never finds a
 * certificate next to another certificate's key. `certificateId` must be a
 * 64-hex id: it becomes a path.
 */
export async function writeCertificatePair(
  dir: string,
  certificateId: string,
  certificatePem: string,
  privateKeyPem: string,
): Promise<CertificatePairFiles> {
  if (!isCertificateId(certificateId)) {
    throw new CredentialsError(`'${certificateId}' is not a certificate id (64 hex digits)`, {
      reason: 'invalid-pointer',
      location: dir,
    });
  }
  await ensurePrivateDirectory(dir);
  const final = join(dir, certificateId);
  const staging = join(dir, scratchName(certificateId, 'new'));
  await mkdir(staging, { mode: 0o700 });
  try {
    await writeFileAtomic(join(staging, DEFAULT_CREDENTIAL_FILE_NAMES.privateKey), privateKeyPem, {
      mode: 0o600,
    });
    await writeFileAtomic(
      join(staging, DEFAULT_CREDENTIAL_FILE_NAMES.certificate),
      certificatePem,
      {
        mode: 0o600,
      },
    );
    await moveIntoPlace(staging, final, join(dir, scratchName(certificateId, 'old')));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return {
    certPath: join(final, DEFAULT_CREDENTIAL_FILE_NAMES.certificate),
    keyPath: join(final, DEFAULT_CREDENTIAL_FILE_NAMES.privateKey),
  };
}

/**
 * Renames `staging` to `final`. A directory cannot be renamed over a non-empty
 * one, so an earlier copy of the same certificate is moved aside first and
 * removed after; only a process restarted with that certificate meets one.
 */
async function moveIntoPlace(staging: string, final: string, aside: string): Promise<void> {
  try {
    await rename(staging, final);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  await rename(final, aside);
  await rename(staging, final);
  await rm(aside, { recursive: true, force: true });
}

/**
 * Removes every certificate directory in `dir` but `keepId`'s, and scratch
 * directories a crash left behind: a replaced private key has no business on
 * the device. Call it only while no {@link writeCertificatePair} runs on `dir`.
 * Anything else in `dir` is left alone.
 */
export async function removeOtherCertificatePairs(dir: string, keepId: string): Promise<void> {
  const entries = await readdir(dir);
  await Promise.all(
    entries
      .filter((name) => (isCertificateId(name) && name !== keepId) || SCRATCH.test(name))
      .map((name) => rm(join(dir, name), { recursive: true, force: true })),
  );
}
