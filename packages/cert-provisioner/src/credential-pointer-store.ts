import {
  credentialPointerKey,
  parseCredentialPointer,
  serializeCredentialPointer,
  type CredentialObjectKeys,
  type CredentialPointer,
} from '@thingcert/contracts';
import type { CredentialStore } from './credential-store';
import type { CertificateLocation } from './layout';

/** What a pointer names: a certificate and its objects. No key material. */
export interface PointerTarget {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly objects: CredentialObjectKeys;
}

/** The pointer object as read, with its ETag for a conditional overwrite. */
export interface StoredPointer {
  /** `undefined` when the object is there but is not a valid pointer. */
  readonly pointer: CredentialPointer | undefined;
  readonly etag: string | undefined;
}

/** The pointer's body for `target`, stamped now. */
export function pointerBody(target: PointerTarget): string {
  return serializeCredentialPointer({
    version: 1,
    certificateId: target.certificateId,
    certificateArn: target.certificateArn,
    objects: target.objects,
    updatedAt: new Date().toISOString(),
  });
}

/** The certificate id a pointer body names, or `undefined` when it is no valid pointer. */
export function pointerCertificateId(body: string): string | undefined {
  try {
    return parseCredentialPointer(body).certificateId;
  } catch {
    return undefined;
  }
}

/** The thing's pointer, or `undefined` when there is none. */
export async function readCredentialPointer(
  store: CredentialStore,
  location: CertificateLocation,
  signal?: AbortSignal,
): Promise<StoredPointer | undefined> {
  const stored = await store.get(credentialPointerKey(location), signal);
  if (!stored) return undefined;
  let pointer: CredentialPointer | undefined;
  try {
    pointer = parseCredentialPointer(stored.body);
  } catch {
    pointer = undefined;
  }
  return { pointer, etag: stored.etag };
}

/**
 * Points the thing at `target`, conditionally: over `replacing` only if the
 * pointer is still the one read (`If-Match`), or, without `replacing`, only if
 * there is still none (`If-None-Match: *`). A concurrent move wins and the
 * caller reads again. Throws the SDK error (see `isPreconditionFailure`).
 */
export async function writeCredentialPointer(
  store: CredentialStore,
  location: CertificateLocation,
  target: PointerTarget,
  options: { readonly replacing?: StoredPointer; readonly signal?: AbortSignal } = {},
): Promise<void> {
  const { replacing } = options;
  const condition = replacing
    ? replacing.etag
      ? { ifMatch: replacing.etag }
      : {}
    : { ifNoneMatch: true };
  await store.put(credentialPointerKey(location), pointerBody(target), {
    contentType: 'application/json',
    ...condition,
    signal: options.signal,
  });
}
