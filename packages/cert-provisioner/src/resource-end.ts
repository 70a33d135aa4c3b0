import { createHash } from 'node:crypto';
import type { CredentialStore } from './credential-store';
import { resourceEndFolder, type CertificateLocation } from './layout';
import type { ResourceScope } from './unheld-certificates';

/**
 * The mark a Delete leaves when it ends a custom resource whose Create is
 * still running. No key material.
 */
export interface ResourceEndMark {
  readonly version: 1;
  readonly stackId: string;
  readonly logicalResourceId: string;
  /** When the Delete ran (ISO 8601): Creates claimed before it are ended. */
  readonly endedAt: string;
}

/** S3 key of the end mark of one custom resource, in a thing's folder. */
export function resourceEndKey(location: CertificateLocation, scope: ResourceScope): string {
  const digest = createHash('sha256')
    .update(`${scope.stackId}\n${scope.logicalResourceId}`)
    .digest('hex');
  return `${resourceEndFolder(location)}${digest.slice(0, 40)}.json`;
}

/**
 * Marks the resource ended: a Create of it claimed before now finds the mark
 * before it records success ({@link isResourceEndedSince}) and takes its
 * certificate back, since CloudFormation, which sent this Delete with an id
 * of its own, will never hold that certificate.
 */
export async function markResourceEnded(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  signal?: AbortSignal,
): Promise<void> {
  const mark: ResourceEndMark = {
    version: 1,
    stackId: scope.stackId,
    logicalResourceId: scope.logicalResourceId,
    endedAt: new Date().toISOString(),
  };
  await store.put(resourceEndKey(location, scope), JSON.stringify(mark), {
    contentType: 'application/json',
    signal,
  });
}

/** True when the resource was ended at or after `claimedAt` (ISO 8601). */
export async function isResourceEndedSince(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  claimedAt: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const stored = await store.get(resourceEndKey(location, scope), signal);
  if (!stored) return false;
  try {
    const mark = JSON.parse(stored.body) as Partial<ResourceEndMark>;
    return typeof mark.endedAt === 'string' && mark.endedAt >= claimedAt;
  } catch {
    return false;
  }
}

/** Removes the resource's end mark, if any. */
export async function clearResourceEnded(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  signal?: AbortSignal,
): Promise<void> {
  await store.deleteMany([resourceEndKey(location, scope)], signal);
}
