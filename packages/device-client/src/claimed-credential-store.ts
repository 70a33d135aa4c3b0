import { DEFAULT_CREDENTIAL_FILE_NAMES } from '@thingcert/contracts';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateIdOf } from './certificate-id';
import { CredentialsError } from './errors';
import { assertKeyFilePrivate, ensurePrivateDirectory } from './key-file-permissions';
import { verifyKeyPair } from './verify-key-pair';
import { writeFileAtomic } from './write-file-atomic';

/**
 * Where a device that provisioned itself by claim keeps its own credentials:
 * `<dir>/private.pem.key` (its key, made here, written before anything is
 * sent), `<dir>/device.pem.crt` (the certificate AWS IoT issued for its CSR)
 * and `<dir>/registration.json` (written last, once the thing is registered:
 * without it the pair is not known to be usable). `dir` is 0700, files 0600.
 */
export interface ClaimedCredentialFiles {
  readonly dir: string;
  readonly keyPath: string;
  readonly certPath: string;
  readonly registrationPath: string;
}

/** What `registration.json` holds: the thing this device became, with which certificate. */
export interface ClaimedRegistration {
  readonly thingName: string;
  readonly certificateId: string;
  readonly templateName: string;
}

/** The files of {@link ClaimedCredentialFiles} in `dir`. */
export function claimedCredentialFiles(dir: string): ClaimedCredentialFiles {
  return {
    dir,
    keyPath: join(dir, DEFAULT_CREDENTIAL_FILE_NAMES.privateKey),
    certPath: join(dir, DEFAULT_CREDENTIAL_FILE_NAMES.certificate),
    registrationPath: join(dir, 'registration.json'),
  };
}

/**
 * Starts a new claim: removes what an unfinished earlier one left (its
 * certificate was never confirmed registered; AWS IoT deletes a certificate
 * still pending after its token's hour) and writes the new private key, 0600
 * in a 0700 directory, before the CSR goes anywhere.
 */
export async function writeClaimKey(
  files: ClaimedCredentialFiles,
  privateKeyPem: string,
): Promise<void> {
  await ensurePrivateDirectory(files.dir);
  await rm(files.registrationPath, { force: true });
  await rm(files.certPath, { force: true });
  await writeFileAtomic(files.keyPath, privateKeyPem, { mode: 0o600 });
}

/** Stores the certificate AWS IoT issued for the device's CSR (0600). */
export async function writeClaimedCertificate(
  files: ClaimedCredentialFiles,
  certificatePem: string,
): Promise<void> {
  await writeFileAtomic(files.certPath, certificatePem, { mode: 0o600 });
}

/** Records that the thing is registered with the stored certificate: the pair is the device's now. */
export async function writeClaimedRegistration(
  files: ClaimedCredentialFiles,
  registration: ClaimedRegistration,
): Promise<void> {
  await writeFileAtomic(files.registrationPath, `${JSON.stringify(registration)}\n`, {
    mode: 0o600,
  });
}

/**
 * The device's own registered credentials, when `dir` holds a registration
 * for `thingName` and the key and certificate that go with it; `undefined`
 * when it holds none (first boot, or a claim that did not finish). A key file
 * open to group or others is refused ({@link assertKeyFilePrivate}), and so
 * are a certificate and key that are not one pair or not the registered
 * certificate.
 */
export async function readClaimedCredentials(
  files: ClaimedCredentialFiles,
  thingName: string,
): Promise<(ClaimedRegistration & { certPath: string; keyPath: string }) | undefined> {
  const registration = await readRegistration(files.registrationPath);
  if (registration?.thingName !== thingName) return undefined;
  if (!(await assertKeyFilePrivate(files.keyPath))) return undefined;
  let certificatePem: string;
  let privateKeyPem: string;
  try {
    [certificatePem, privateKeyPem] = await Promise.all([
      readFile(files.certPath, 'utf8'),
      readFile(files.keyPath, 'utf8'),
    ]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  verifyKeyPair(certificatePem, privateKeyPem, {
    certificate: files.certPath,
    privateKey: files.keyPath,
  });
  if (certificateIdOf(certificatePem) !== registration.certificateId) {
    throw new CredentialsError(
      `${files.certPath} is not certificate ${registration.certificateId}, which ${files.registrationPath} names; ` +
        `remove ${files.dir} to provision this device again`,
      { reason: 'invalid-pem', location: files.certPath },
    );
  }
  return { ...registration, certPath: files.certPath, keyPath: files.keyPath };
}

async function readRegistration(path: string): Promise<ClaimedRegistration | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let data: Partial<Record<keyof ClaimedRegistration, unknown>>;
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    // A torn or hand-edited file: not a registration we can trust, start over.
    return undefined;
  }
  const { thingName, certificateId, templateName } = data ?? {};
  if (
    typeof thingName !== 'string' ||
    typeof certificateId !== 'string' ||
    typeof templateName !== 'string'
  ) {
    return undefined;
  }
  return { thingName, certificateId, templateName };
}
