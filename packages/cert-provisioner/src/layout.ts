import {
  credentialObjectKeys,
  thingFolder,
  type CredentialFileNames,
  type CredentialLocation,
  type CredentialObjectKeys,
} from '@thingcert/contracts';

export { thingFolder };

/**
 * File names inside a thing's folder.
 *
 * @deprecated Use `CredentialFileNames` from `@thingcert/contracts`, where the
 * device client reads the same layout from.
 */
export type FileNames = CredentialFileNames;

/**
 * The S3 keys of one thing's credentials.
 *
 * @deprecated Use `CredentialObjectKeys` from `@thingcert/contracts`.
 */
export type CertificateObjects = CredentialObjectKeys;

/** Where a thing's credentials live: the shared layout, in a bucket. */
export interface CertificateLocation extends CredentialLocation {
  /** Bucket holding the credentials. */
  readonly bucketName: string;
}

/**
 * The credential object keys for a location.
 *
 * @deprecated Use `credentialObjectKeys` from `@thingcert/contracts`.
 */
export const certificateObjectsOf: (location: CertificateLocation) => CredentialObjectKeys =
  credentialObjectKeys;

/**
 * Folder of bookkeeping objects (request markers), inside the thing's folder so
 * that IAM scoped to `<keyPrefix><thingName>/*` covers them.
 */
export function requestMarkerFolder(location: CertificateLocation): string {
  return `${thingFolder(location)}.thingcert/requests/`;
}

/**
 * Folder of the per-certificate records (what each certificate was made
 * with), beside the request markers and covered by the same IAM scope.
 */
export function certificateRecordFolder(location: CertificateLocation): string {
  return `${thingFolder(location)}.thingcert/certificates/`;
}

/**
 * Folder of the marks a Delete leaves when it ends a custom resource whose
 * Create is still running (see `resource-end.ts`), beside the request markers.
 */
export function resourceEndFolder(location: CertificateLocation): string {
  return `${thingFolder(location)}.thingcert/ended/`;
}
