/** File names inside a thing's folder. Defaults are the seed's names. */
export interface FileNames {
  /** @default 'device.pem.crt' */
  readonly certificate?: string;
  /** @default 'public.pem.key' */
  readonly publicKey?: string;
  /** @default 'private.pem.key' */
  readonly privateKey?: string;
}

/** The S3 keys of one thing's credentials. */
export interface CertificateObjects {
  readonly certificate: string;
  readonly publicKey: string;
  readonly privateKey: string;
}

/** Where a thing's credentials live. */
export interface CertificateLocation {
  /** AWS IoT thing name; also the folder name in the bucket. */
  readonly thingName: string;
  /** Bucket holding the credentials. */
  readonly bucketName: string;
  /**
   * Prepended to the thing's folder, e.g. `devices/`.
   * @default ''
   */
  readonly keyPrefix?: string;
  /** File names inside the folder. */
  readonly fileNames?: FileNames;
}

/** `<keyPrefix><thingName>/`: everything this package writes for a thing lives below it. */
export function thingFolder(location: CertificateLocation): string {
  return `${location.keyPrefix ?? ''}${location.thingName}/`;
}

/** The credential object keys for a location. */
export function certificateObjectsOf(location: CertificateLocation): CertificateObjects {
  const folder = thingFolder(location);
  return {
    certificate: `${folder}${location.fileNames?.certificate ?? 'device.pem.crt'}`,
    publicKey: `${folder}${location.fileNames?.publicKey ?? 'public.pem.key'}`,
    privateKey: `${folder}${location.fileNames?.privateKey ?? 'private.pem.key'}`,
  };
}

/**
 * Folder of bookkeeping objects (request markers), inside the thing's folder so
 * that IAM scoped to `<keyPrefix><thingName>/*` covers them.
 */
export function requestMarkerFolder(location: CertificateLocation): string {
  return `${thingFolder(location)}.thingcert/requests/`;
}
