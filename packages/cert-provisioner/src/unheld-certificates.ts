import { listCertificateRecords, type CertificateRecord } from './certificate-record';
import type { CredentialStore } from './credential-store';
import { requestMarkerFolder, type CertificateLocation } from './layout';
import { parseRequestMarker, requestMarkerKey, type RequestMarker } from './request-claim';

/**
 * How long a request may stay `pending` before the invocation that claimed it
 * is certainly over: Lambda's longest timeout (15 minutes) plus a margin. A
 * request still pending after that was never answered SUCCESS (the marker
 * says `succeeded` before the answer is sent), so CloudFormation holds
 * nothing it made.
 */
export const STALE_CLAIM_MS = 20 * 60_000;

/** One CloudFormation custom resource: a stack and a logical id. */
export interface ResourceScope {
  readonly stackId: string;
  readonly logicalResourceId: string;
}

/** A request marker found in a thing's folder. */
export interface FoundMarker {
  readonly key: string;
  readonly marker: RequestMarker;
}

/** True while the invocation that claimed the request may still be running. */
export function isInFlight(marker: RequestMarker, now: number): boolean {
  return marker.state === 'pending' && now - Date.parse(marker.claimedAt) < STALE_CLAIM_MS;
}

/**
 * True when CloudFormation never got SUCCESS for the request: it failed
 * (including a response that could not be delivered), or it stayed pending
 * past {@link STALE_CLAIM_MS}. A certificate such a request made is held by
 * no resource.
 */
export function neverSucceeded(marker: RequestMarker, now: number): boolean {
  return (
    marker.state === 'failed' ||
    (marker.state === 'pending' && now - Date.parse(marker.claimedAt) >= STALE_CLAIM_MS)
  );
}

/**
 * The recorded certificates of the stack whose request was never answered
 * SUCCESS ({@link neverSucceeded}): what a request whose own cleanup failed,
 * or was frozen with its sandbox, left behind. Certificates in `keep` (the
 * one the event names, the one just made) are never listed, nor certificates
 * recorded without their request or whose marker is gone (unknown is kept).
 */
export async function certificatesOfFailedRequests(
  store: CredentialStore,
  location: CertificateLocation,
  scope: { readonly stackId: string; readonly keep: ReadonlySet<string>; readonly now: number },
  signal?: AbortSignal,
): Promise<CertificateRecord[]> {
  const found: CertificateRecord[] = [];
  for (const record of await listCertificateRecords(store, location, signal)) {
    const { requestId, certificateId } = record;
    if (record.stackId !== scope.stackId || !requestId || scope.keep.has(certificateId)) continue;
    const key = requestMarkerKey({ stackId: scope.stackId, requestId, location });
    const stored = await store.get(key, signal);
    const marker = stored ? parseRequestMarker(stored.body) : undefined;
    if (marker && neverSucceeded(marker, scope.now)) found.push(record);
  }
  return found;
}

/** The recorded certificates made for one custom resource (records that name it). */
export async function certificatesOfResource(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  signal?: AbortSignal,
): Promise<CertificateRecord[]> {
  return (await listCertificateRecords(store, location, signal)).filter(
    (record) =>
      record.stackId === scope.stackId && record.logicalResourceId === scope.logicalResourceId,
  );
}

/** The request markers in the thing's folder that name this custom resource. */
export async function markersOfResource(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  signal?: AbortSignal,
): Promise<FoundMarker[]> {
  return (await store.readAll(requestMarkerFolder(location), parseRequestMarker, signal))
    .filter(
      ({ value }) =>
        value.stackId === scope.stackId && value.logicalResourceId === scope.logicalResourceId,
    )
    .map(({ key, value }) => ({ key, marker: value }));
}
