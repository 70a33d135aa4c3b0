import type { S3Client } from '@aws-sdk/client-s3';
import {
  credentialObjectKeys,
  DEFAULT_CREDENTIAL_FILE_NAMES,
  thingFolder,
  type CredentialFileNames,
  type CredentialObjectKeys,
} from '@thingcert/contracts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateIdOf } from './certificate-id';
import { CredentialsError } from './errors';
import { assertKeyFilePrivate, ensurePrivateDirectory } from './key-file-permissions';
import { getObjectText } from './s3-object-text';
import { verifyKeyPair } from './verify-key-pair';
import { writeFileAtomic } from './write-file-atomic';

/** Where a device's certificate, key and optional CA are on disk. */
export interface DeviceCredentials {
  readonly certPath: string;
  readonly keyPath: string;
  /** CA bundle to trust for the broker; `undefined` means the system trust store. */
  readonly caPath: string | undefined;
  /** AWS IoT id of the certificate (SHA-256 of its DER), for logs. */
  readonly certificateId: string;
}

/** Options for {@link fetchCredentials}. */
export interface FetchCredentialsOptions {
  /** S3 client (endpoint and region come from its own configuration). */
  readonly s3: S3Client;
  readonly bucket: string;
  /** Thing name; objects live under `<keyPrefix><thing>/` unless `objectKeys` says where. */
  readonly thing: string;
  /** Directory for the files; created 0700 if missing. */
  readonly dir: string;
  /**
   * The certificate's and private key's S3 keys as the certificate resource
   * returned them (`CertificateObjectKey`, `PrivateKeyObjectKey`). When given,
   * `keyPrefix` and the `objects` file names are not used for them.
   *
   * @default the shared layout: `credentialObjectKeys({ thingName: thing, keyPrefix, fileNames: objects })`
   */
  readonly objectKeys?: Pick<CredentialObjectKeys, 'certificate' | 'privateKey'>;
  /** @default '' */
  readonly keyPrefix?: string;
  /**
   * Object names under `<keyPrefix><thing>/`: the layout's file names, and a
   * root CA object to download too.
   *
   * @default the layout's names (`DEFAULT_CREDENTIAL_FILE_NAMES`), no root CA
   */
  readonly objects?: Pick<CredentialFileNames, 'certificate' | 'privateKey'> & {
    readonly rootCa?: string;
  };
  readonly abortSignal?: AbortSignal;
}

/** File names written into `dir`: the layout's names, so existing docs still apply. */
const CERT_FILE = DEFAULT_CREDENTIAL_FILE_NAMES.certificate;
const KEY_FILE = DEFAULT_CREDENTIAL_FILE_NAMES.privateKey;
const CA_FILE = 'root-ca.pem';

/**
 * Downloads a thing's certificate and private key (and optionally a root CA)
 * from S3 into `dir`: directory 0700, files 0600, each written atomically. The
 * pair is verified in memory before anything is written, and an existing key
 * file readable by group/others is refused (it must be treated as leaked).
 *
 * @example
 * ```ts
 * const s3 = new S3Client({});
 * const credentials = await fetchCredentials({
 *   s3, bucket: 'my-bucket', thing: 'thing-1', dir: '/var/lib/thingcert/thing-1',
 * });
 * // credentials.certPath, credentials.keyPath
 * ```
 */
export async function fetchCredentials(
  options: FetchCredentialsOptions,
): Promise<DeviceCredentials> {
  const location = {
    thingName: options.thing,
    keyPrefix: options.keyPrefix,
    fileNames: options.objects,
  };
  const { certificate: certKey, privateKey: keyKey } =
    options.objectKeys ?? credentialObjectKeys(location);
  const rootCa = options.objects?.rootCa;
  const caKey = rootCa === undefined ? undefined : thingFolder(location) + rootCa;

  await ensurePrivateDirectory(options.dir);
  const certPath = join(options.dir, CERT_FILE);
  const keyPath = join(options.dir, KEY_FILE);
  const caPath = caKey === undefined ? undefined : join(options.dir, CA_FILE);
  // Refuse before downloading: a loose key there means someone got it already.
  await assertKeyFilePrivate(keyPath);

  const [certificatePem, privateKeyPem, caPem] = await Promise.all([
    objectText(options, certKey),
    objectText(options, keyKey),
    caKey === undefined ? Promise.resolve(undefined) : objectText(options, caKey),
  ]);
  verifyKeyPair(certificatePem, privateKeyPem, {
    certificate: `s3://${options.bucket}/${certKey}`,
    privateKey: `s3://${options.bucket}/${keyKey}`,
  });

  // Key first: if the certificate write fails, the old certificate no longer
  // matches, which the next start detects instead of connecting half-updated.
  await writeFileAtomic(keyPath, privateKeyPem, { mode: 0o600 });
  await writeFileAtomic(certPath, certificatePem, { mode: 0o600 });
  if (caPath !== undefined && caPem !== undefined) {
    await writeFileAtomic(caPath, caPem, { mode: 0o600 });
  }
  return { certPath, keyPath, caPath, certificateId: certificateIdOf(certificatePem) };
}

/** Options for {@link loadCredentialFiles}. */
export interface CredentialFiles {
  readonly certPath: string;
  readonly keyPath: string;
  /** @default undefined (system trust store) */
  readonly caPath?: string;
}

/**
 * Checks credentials already on disk (`--cert/--key`): the key file must not be
 * readable by group/others and must match the certificate.
 *
 * @example
 * ```ts
 * const credentials = await loadCredentialFiles({ certPath: 'device.pem.crt', keyPath: 'private.pem.key' });
 * ```
 */
export async function loadCredentialFiles(files: CredentialFiles): Promise<DeviceCredentials> {
  if (!(await assertKeyFilePrivate(files.keyPath))) {
    throw new CredentialsError(`Private key file ${files.keyPath} does not exist`, {
      reason: 'unreadable-file',
      location: files.keyPath,
    });
  }
  const [certificatePem, privateKeyPem] = await Promise.all([
    readText(files.certPath, 'certificate'),
    readText(files.keyPath, 'private key'),
  ]);
  if (files.caPath !== undefined) await readText(files.caPath, 'CA');
  verifyKeyPair(certificatePem, privateKeyPem, {
    certificate: files.certPath,
    privateKey: files.keyPath,
  });
  return {
    certPath: files.certPath,
    keyPath: files.keyPath,
    caPath: files.caPath,
    certificateId: certificateIdOf(certificatePem),
  };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new CredentialsError(
      `Cannot read ${what} file ${path} (${code}): check the path and that this user may read it`,
      { reason: 'unreadable-file', location: path },
    );
  }
}

async function objectText(options: FetchCredentialsOptions, key: string): Promise<string> {
  const { s3, bucket, abortSignal } = options;
  return (await getObjectText({ s3, bucket, key, abortSignal })).text;
}
