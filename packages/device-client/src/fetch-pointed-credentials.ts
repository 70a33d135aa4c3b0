import type { S3Client } from '@aws-sdk/client-s3';
import { parseCredentialPointer, type CredentialPointer } from '@thingcert/contracts';
import { certificateIdOf, isCertificateId } from './certificate-id';
import { writeCertificatePair } from './certificate-pair-store';
import { CredentialsError } from './errors';
import type { DeviceCredentials } from './fetch-credentials';
import { getObjectText } from './s3-object-text';
import { verifyKeyPair } from './verify-key-pair';

/** Options for {@link fetchPointedCredentials}. */
export interface FetchPointedCredentialsOptions {
  /** S3 client (endpoint and region come from its own configuration). */
  readonly s3: S3Client;
  readonly bucket: string;
  /**
   * S3 key of the thing's credential pointer: the certificate resource's
   * `CredentialPointerObjectKey`, or `credentialPointerKey({ thingName })` of
   * `@thingcert/contracts` (`<keyPrefix><thing>/current.json`).
   */
  readonly pointerKey: string;
  /** Directory for the files (created 0700); each certificate gets `<dir>/<certificateId>/`. */
  readonly dir: string;
  /** CA bundle for the broker, passed through. @default undefined (system trust store) */
  readonly caPath?: string;
  readonly abortSignal?: AbortSignal;
}

/** Credentials a pointer named, downloaded and verified. */
export interface PointedCredentials extends DeviceCredentials {
  readonly certificateArn: string;
  /** ETag of the pointer object they were named by: what a conditional read compares. */
  readonly pointerEtag: string | undefined;
}

/**
 * Reads a thing's credential pointer, then the certificate and private key it
 * names; checks that they are one key pair and that the certificate really is
 * the one the pointer names (its SHA-256, which is how AWS IoT makes
 * certificate ids); and only then writes them to `<dir>/<certificateId>/`,
 * 0600 files in 0700 directories, the pair at once (see
 * {@link writeCertificatePair}). Errors are {@link CredentialsError}s naming
 * S3 locations, never key material.
 *
 * @example
 * ```ts
 * const credentials = await fetchPointedCredentials({
 *   s3: new S3Client({}), bucket: 'my-bucket',
 *   pointerKey: credentialPointerKey({ thingName: 'thing-1' }),
 *   dir: '/var/lib/thingcert-device-runner/credentials/thing-1',
 * });
 * // credentials.certificateId, credentials.certPath, credentials.keyPath
 * ```
 */
export async function fetchPointedCredentials(
  options: FetchPointedCredentialsOptions,
): Promise<PointedCredentials> {
  const { s3, bucket, pointerKey, abortSignal } = options;
  const object = await getObjectText({ s3, bucket, key: pointerKey, abortSignal });
  const pointer = parsePointerObject(object.text, `s3://${bucket}/${pointerKey}`);
  return downloadPointedCredentials(options, pointer, object.etag);
}

/**
 * The second half of {@link fetchPointedCredentials}, for a pointer already
 * read and parsed (a watcher's conditional read): download, verify and write
 * what it names.
 *
 * @param pointerEtag the pointer object's ETag, kept for the next conditional read
 */
export async function downloadPointedCredentials(
  options: FetchPointedCredentialsOptions,
  pointer: CredentialPointer,
  pointerEtag: string | undefined,
): Promise<PointedCredentials> {
  const pointerLocation = `s3://${options.bucket}/${options.pointerKey}`;
  const { s3, bucket, abortSignal } = options;
  const [certificate, privateKey] = await Promise.all([
    getObjectText({ s3, bucket, key: pointer.objects.certificate, abortSignal }),
    getObjectText({ s3, bucket, key: pointer.objects.privateKey, abortSignal }),
  ]);
  const certificateLocation = `s3://${bucket}/${pointer.objects.certificate}`;
  verifyKeyPair(certificate.text, privateKey.text, {
    certificate: certificateLocation,
    privateKey: `s3://${bucket}/${pointer.objects.privateKey}`,
  });
  const actualId = certificateIdOf(certificate.text);
  if (actualId !== pointer.certificateId) {
    throw new CredentialsError(
      `${pointerLocation} names certificate ${pointer.certificateId} but ${certificateLocation} is certificate ${actualId}: ` +
        'the pointer and the objects disagree; check whoever wrote them (the provisioner writes the objects first, the pointer last)',
      { reason: 'invalid-pointer', location: pointerLocation },
    );
  }
  const files = await writeCertificatePair(
    options.dir,
    pointer.certificateId,
    certificate.text,
    privateKey.text,
  );
  return {
    ...files,
    caPath: options.caPath,
    certificateId: pointer.certificateId,
    certificateArn: pointer.certificateArn,
    pointerEtag,
  };
}

/**
 * Parses a pointer object's body (`location` is its `s3://` address, for
 * messages). A body that is not a valid pointer, or names an id that is not 64
 * hex digits, throws a one-line {@link CredentialsError} (`invalid-pointer`).
 */
export function parsePointerObject(body: string, location: string): CredentialPointer {
  let pointer: CredentialPointer;
  try {
    pointer = parseCredentialPointer(body);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new CredentialsError(
      `${location}: ${why}; check whoever wrote it (the provisioner writes it)`,
      { reason: 'invalid-pointer', location },
      { cause: error },
    );
  }
  if (!isCertificateId(pointer.certificateId)) {
    throw new CredentialsError(
      `${location}: "certificateId" is not 64 hex digits; check whoever wrote it`,
      { reason: 'invalid-pointer', location },
    );
  }
  return pointer;
}
