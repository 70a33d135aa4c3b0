import type { KeyAlgorithm, KeyMode } from '@thingcert/contracts';
import type { CertificateProperties } from './certificate-properties';
import type { CredentialStore } from './credential-store';
import { certificateRecordFolder, requestMarkerFolder, type CertificateLocation } from './layout';
import { parseRequestMarker } from './request-claim';

/**
 * What one certificate was made with, stored in its thing's folder as soon as
 * the certificate exists. It is the provisioner's proof of ownership (only
 * recorded certificates are ever deactivated or deleted) and the truth an
 * Update compares against, instead of `OldResourceProperties`, which after a
 * failed Update names properties no certificate was made with. No key material.
 */
export interface CertificateRecord {
  readonly version: 1;
  readonly certificateId: string;
  readonly certificateArn: string;
  /** The `iot:Data-ATS` endpoint at creation: lets an Update answer `Data` without AWS calls. */
  readonly endpoint: string;
  readonly thingName: string;
  readonly bucketName: string;
  readonly keyPrefix: string;
  readonly keyMode: KeyMode;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly rotationToken?: string;
  /** The CloudFormation request that made it, to clean up after that request failed. */
  readonly stackId?: string;
  readonly requestId?: string;
  /**
   * The custom resource it was made for: when CloudFormation ends that
   * resource with a physical id that is no certificate (a Create it cancelled
   * or gave up on), none of its certificates is held. Absent in records made
   * before it was recorded.
   */
  readonly logicalResourceId?: string;
  /** ISO 8601; the newest usable certificate is where the pointer falls back to. */
  readonly createdAt: string;
}

/** Who asked for a certificate: written into its record. */
export interface RecordOrigin {
  readonly stackId?: string;
  readonly requestId?: string;
  readonly logicalResourceId?: string;
  readonly rotationToken?: string;
}

/** S3 key of one certificate's record. */
export function certificateRecordKey(location: CertificateLocation, certificateId: string): string {
  return `${certificateRecordFolder(location)}${certificateId}.json`;
}

function parseRecord(body: string): CertificateRecord | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<CertificateRecord>;
    return parsed.version === 1 && typeof parsed.certificateId === 'string'
      ? // Every record written has createdAt; ordering must not depend on it.
        ({ ...parsed, createdAt: String(parsed.createdAt ?? '') } as CertificateRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record of `certificateId` in the location's folder, or `undefined` when
 * there is none (a certificate this provisioner did not make for this thing,
 * or one made before records existed).
 */
export async function readCertificateRecord(
  store: CredentialStore,
  location: CertificateLocation,
  certificateId: string,
  signal?: AbortSignal,
): Promise<CertificateRecord | undefined> {
  const stored = await store.get(certificateRecordKey(location, certificateId), signal);
  const record = stored ? parseRecord(stored.body) : undefined;
  return record?.certificateId === certificateId ? record : undefined;
}

/**
 * Every record in the location's folder, newest first (by `createdAt`).
 * Records that do not parse, or whose file name is not their certificate,
 * are skipped: they prove nothing.
 */
export async function listCertificateRecords(
  store: CredentialStore,
  location: CertificateLocation,
  signal?: AbortSignal,
): Promise<CertificateRecord[]> {
  return (await store.readAll(certificateRecordFolder(location), parseRecord, signal))
    .filter(({ key, value }) => key === certificateRecordKey(location, value.certificateId))
    .map(({ value }) => value)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * The records in the location's folder of certificates made for one
 * CloudFormation request (normally at most one).
 */
export async function recordsOfRequest(
  store: CredentialStore,
  location: CertificateLocation,
  request: { readonly stackId: string; readonly requestId: string },
  signal?: AbortSignal,
): Promise<CertificateRecord[]> {
  return (await listCertificateRecords(store, location, signal)).filter(
    (record) => record.stackId === request.stackId && record.requestId === request.requestId,
  );
}

/**
 * True when the certificate was made by this provisioner for this thing: its
 * record is in the thing's folder, or (certificates made before records
 * existed) one of the folder's request markers names it.
 */
export async function isOwnCertificate(
  store: CredentialStore,
  location: CertificateLocation,
  certificateId: string,
  signal?: AbortSignal,
): Promise<boolean> {
  if (await readCertificateRecord(store, location, certificateId, signal)) return true;
  // A marker that does not parse is not ours: it proves nothing.
  const markers = await store.readAll(requestMarkerFolder(location), parseRequestMarker, signal);
  return markers.some(({ value }) => value.certificateId === certificateId);
}

/**
 * True when the recorded certificate is what the properties ask for: same
 * thing, bucket, key prefix, key mode, key algorithm and rotation token
 * (`KmsKeyId` only applies to the next certificate written).
 */
export function recordMatches(record: CertificateRecord, props: CertificateProperties): boolean {
  return (
    record.thingName === props.thingName &&
    record.bucketName === props.bucketName &&
    record.keyPrefix === props.keyPrefix &&
    record.keyMode === props.keyMode &&
    record.keyAlgorithm === props.keyAlgorithm &&
    (record.rotationToken ?? undefined) === props.rotationToken
  );
}
