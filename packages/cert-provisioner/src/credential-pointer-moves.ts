import { DescribeCertificateCommand } from '@aws-sdk/client-iot';
import { credentialPointerKey } from '@thingcert/contracts';
import { listCertificateRecords } from './certificate-record';
import { ensureCertificateFolder } from './certificate-objects';
import {
  readCredentialPointer,
  writeCredentialPointer,
  type PointerTarget,
  type StoredPointer,
} from './credential-pointer-store';
import { isPreconditionFailure, type CredentialStore } from './credential-store';
import { isAwsErrorNamed } from './errors';
import type { CertificateLocation } from './layout';
import type { ProvisionerDeps } from './provisioner-deps';

/** What {@link moveCredentialPointerAway} did. */
export type PointerMove =
  | { readonly kind: 'untouched' }
  | { readonly kind: 'moved'; readonly certificateId: string }
  | { readonly kind: 'removed' };

/** Reads and rewrites of the pointer tried before a concurrent writer is left to win. */
const MAX_POINTER_ATTEMPTS = 3;

/**
 * The certificate as a pointer target, when a device could connect with it:
 * ACTIVE in AWS IoT, with its three objects in its own folder (copied there
 * from the fixed per-thing files of the layout before the pointer, when only
 * those hold it). `undefined` otherwise.
 */
export async function usablePointerTarget(
  deps: Pick<ProvisionerDeps, 'iot'>,
  store: CredentialStore,
  location: CertificateLocation,
  certificateId: string,
  signal?: AbortSignal,
): Promise<PointerTarget | undefined> {
  let description;
  try {
    ({ certificateDescription: description } = await deps.iot.send(
      new DescribeCertificateCommand({ certificateId }),
      { abortSignal: signal },
    ));
  } catch (error) {
    if (isAwsErrorNamed(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
  if (description?.status !== 'ACTIVE' || !description.certificateArn) return undefined;
  const objects = await ensureCertificateFolder(store, location, certificateId, signal);
  return objects
    ? { certificateId, certificateArn: description.certificateArn, objects }
    : undefined;
}

/**
 * Before certificates are removed: when the thing's pointer names one of
 * `leaving` (or is unreadable), points it at the newest other recorded
 * certificate of the thing that is still usable ({@link usablePointerTarget}),
 * or deletes it when there is none. A pointer naming any other certificate is
 * left alone. The rewrite is conditional on the pointer read, so a concurrent
 * move is never overwritten blindly; after {@link MAX_POINTER_ATTEMPTS} lost
 * races the other writer wins.
 *
 * @example
 * ```ts
 * await moveCredentialPointerAway({ iot, store, location, leaving: new Set([oldId]) });
 * ```
 */
export async function moveCredentialPointerAway(input: {
  readonly deps: Pick<ProvisionerDeps, 'iot'>;
  readonly store: CredentialStore;
  readonly location: CertificateLocation;
  readonly leaving: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}): Promise<PointerMove> {
  const { store, location, leaving, signal } = input;
  for (let attempt = 1; ; attempt++) {
    const stored = await readCredentialPointer(store, location, signal);
    if (!stored) return { kind: 'untouched' };
    const named = stored.pointer?.certificateId;
    if (named !== undefined && !leaving.has(named)) return { kind: 'untouched' };
    try {
      return await repoint(input, stored);
    } catch (error) {
      if (!isPreconditionFailure(error) || attempt >= MAX_POINTER_ATTEMPTS) throw error;
    }
  }
}

async function repoint(
  input: Parameters<typeof moveCredentialPointerAway>[0],
  stored: StoredPointer,
): Promise<PointerMove> {
  const { deps, store, location, leaving, signal } = input;
  for (const record of await listCertificateRecords(store, location, signal)) {
    if (leaving.has(record.certificateId)) continue;
    const target = await usablePointerTarget(deps, store, location, record.certificateId, signal);
    if (!target) continue;
    await writeCredentialPointer(store, location, target, { replacing: stored, signal });
    return { kind: 'moved', certificateId: target.certificateId };
  }
  // Nothing to fall back to: no pointer beats one naming a certificate that is going.
  const again = await readCredentialPointer(store, location, signal);
  if (again && again.etag === stored.etag) {
    await store.deleteMany([credentialPointerKey(location)], signal);
  }
  return { kind: 'removed' };
}

/**
 * An Update that keeps `target`'s certificate: makes sure the thing has a
 * usable pointer. A missing or unreadable pointer, or one naming a
 * certificate that is no longer usable, is pointed at the kept certificate
 * (its objects copied to its own folder first when it was made before the
 * pointer layout). A pointer naming another usable certificate is left alone.
 * Returns the kept certificate's objects in its folder when it could be
 * pointed at, else `undefined`.
 */
export async function ensureCredentialPointer(input: {
  readonly deps: Pick<ProvisionerDeps, 'iot'>;
  readonly store: CredentialStore;
  readonly location: CertificateLocation;
  readonly certificateId: string;
  readonly signal?: AbortSignal;
}): Promise<PointerTarget | undefined> {
  const { deps, store, location, certificateId, signal } = input;
  for (let attempt = 1; ; attempt++) {
    const stored = await readCredentialPointer(store, location, signal);
    const named = stored?.pointer?.certificateId;
    const kept = await usablePointerTarget(deps, store, location, certificateId, signal);
    if (named === certificateId) return kept;
    if (
      named !== undefined &&
      (await usablePointerTarget(deps, store, location, named, signal)) !== undefined
    ) {
      return kept;
    }
    if (!kept) return undefined;
    try {
      await writeCredentialPointer(store, location, kept, { replacing: stored, signal });
      return kept;
    } catch (error) {
      if (!isPreconditionFailure(error) || attempt >= MAX_POINTER_ATTEMPTS) throw error;
    }
  }
}
