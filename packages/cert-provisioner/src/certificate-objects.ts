import {
  certificateFolder,
  certificateObjectKeys,
  credentialObjectKeys,
  type CredentialObjectKeys,
} from '@thingcert/contracts';
import { certificateIdOfPem, type CredentialStore } from './credential-store';
import type { CertificateLocation } from './layout';

/** The three keys as a list (`Object.values` of an interface is `any[]`). */
export function objectKeyList(objects: CredentialObjectKeys): string[] {
  return [objects.certificate, objects.publicKey, objects.privateKey];
}

/** Where a certificate's objects are, and in which layout. */
export interface LocatedObjects {
  readonly objects: CredentialObjectKeys;
  /**
   * `folder`: its own folder (`certificateObjectKeys`); `legacy`: the fixed
   * per-thing files a provisioner before the pointer layout wrote
   * (`credentialObjectKeys`), which still hold this certificate.
   */
  readonly layout: 'folder' | 'legacy';
}

/**
 * Where the certificate's three objects are: its own folder when all three
 * are there, else the fixed per-thing files of the layout before the pointer
 * when their certificate object holds this certificate and the keys are
 * there, else `undefined` (gone, or never written).
 */
export async function locateCertificateObjects(
  store: CredentialStore,
  location: CertificateLocation,
  certificateId: string,
  signal?: AbortSignal,
): Promise<LocatedObjects | undefined> {
  const own = certificateObjectKeys(location, certificateId);
  const listed = new Set(await store.list(certificateFolder(location, certificateId), signal));
  if (objectKeyList(own).every((key) => listed.has(key))) {
    return { objects: own, layout: 'folder' };
  }
  const legacy = credentialObjectKeys(location);
  const certificate = await store.get(legacy.certificate, signal);
  if (!certificate || certificateIdOfPem(certificate.body) !== certificateId) return undefined;
  const keys = new Set(await store.list(legacy.privateKey, signal));
  for (const key of await store.list(legacy.publicKey, signal)) keys.add(key);
  return keys.has(legacy.privateKey) && keys.has(legacy.publicKey)
    ? { objects: legacy, layout: 'legacy' }
    : undefined;
}

/**
 * The certificate's objects in its own folder, copying them there from the
 * fixed per-thing files when only those hold it (a certificate made before
 * the pointer layout): a device scoped to `<thing>/certificates/*` and the
 * pointer can read them, and the legacy files stay for devices that still
 * read those. Each copy keeps its source's content type and SSE-KMS key. The
 * bodies (a private key among them) are held in memory only, never logged.
 * `undefined` when the certificate has no complete set of objects.
 */
export async function ensureCertificateFolder(
  store: CredentialStore,
  location: CertificateLocation,
  certificateId: string,
  signal?: AbortSignal,
): Promise<CredentialObjectKeys | undefined> {
  const located = await locateCertificateObjects(store, location, certificateId, signal);
  if (!located) return undefined;
  if (located.layout === 'folder') return located.objects;
  const own = certificateObjectKeys(location, certificateId);
  for (const file of ['certificate', 'publicKey', 'privateKey'] as const) {
    const source = await store.get(located.objects[file], signal);
    if (!source) return undefined;
    await store.put(own[file], source.body, {
      contentType: source.contentType ?? 'application/x-pem-file',
      ...(source.kmsKeyId ? { kmsKeyId: source.kmsKeyId } : {}),
      signal,
    });
  }
  return own;
}
