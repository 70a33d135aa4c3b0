import type { CertificateRecord } from './certificate-record';
import type { CertificateRequestContext } from './certificate-request-context';
import { CredentialStore } from './credential-store';
import { deprovision } from './deprovision';
import { describeCause } from './errors';
import type { CertificateLocation } from './layout';
import { requestMarkerKey } from './request-claim';
import { clearResourceEnded, markResourceEnded } from './resource-end';
import {
  certificatesOfFailedRequests,
  certificatesOfResource,
  isInFlight,
  markersOfResource,
  type ResourceScope,
} from './unheld-certificates';

/**
 * Deprovisions certificates that no CloudFormation resource holds, each on
 * its own: one that cannot be removed now (still attached, a throttled call
 * at the deadline) is logged and left for a later event. The pointer never
 * moves to any of them, nor to `leaving`. Returns the ids removed.
 */
export async function sweepCertificates(
  records: readonly CertificateRecord[],
  input: {
    readonly location: CertificateLocation;
    readonly context: CertificateRequestContext;
    readonly leaving?: readonly string[];
    readonly why: string;
  },
): Promise<string[]> {
  const { location, context } = input;
  const ids = records.map((record) => record.certificateId);
  const swept: string[] = [];
  for (const certificateId of ids) {
    context.deps.logger.warn('Removing a certificate no resource holds', {
      certificateId,
      why: input.why,
    });
    try {
      await deprovision(
        {
          certificateId,
          thingName: location.thingName,
          bucketName: location.bucketName,
          keyPrefix: location.keyPrefix,
          alsoRemoving: [...ids, ...(input.leaving ?? [])].filter((id) => id !== certificateId),
          // Never attached by CloudFormation; something attached is not ours to wait for.
          detachTimeoutMs: 0,
          signal: context.signal,
        },
        context.deps,
      );
      swept.push(certificateId);
    } catch (error) {
      context.deps.logger.warn('Could not remove it now; a later event of the stack will retry', {
        certificateId,
        error: describeCause(error),
      });
    }
  }
  return swept;
}

/**
 * Gap of a request whose own cleanup failed: removes, from each folder, the
 * recorded certificates of the stack made by a request that was never
 * answered SUCCESS (`certificatesOfFailedRequests`): CloudFormation never
 * held them and will never send a Delete for them. `keep` (the id the event
 * names, a certificate just made) is never touched. Best effort: a problem is
 * logged, never thrown, so it cannot fail the event, a rollback Update least
 * of all.
 */
export async function sweepFailedRequests(
  event: { readonly StackId: string },
  locations: readonly CertificateLocation[],
  keep: readonly string[],
  context: CertificateRequestContext,
): Promise<void> {
  for (const location of locations) {
    try {
      const store = new CredentialStore(context.deps.s3, location.bucketName);
      const unheld = await certificatesOfFailedRequests(
        store,
        location,
        { stackId: event.StackId, keep: new Set(keep), now: Date.now() },
        context.signal,
      );
      await sweepCertificates(unheld, {
        location,
        context,
        leaving: [],
        why: 'made by a request that was never answered SUCCESS',
      });
    } catch (error) {
      context.deps.logger.warn('Sweep of failed requests did not complete', {
        thingName: location.thingName,
        error: describeCause(error),
      });
    }
  }
}

/**
 * A Delete whose physical id is no certificate, and not our failed-Create
 * marker: CloudFormation made the id up because the Create never answered
 * (cancelled when another resource failed, or timed out). The resource ends
 * holding no certificate, so every certificate recorded for it
 * (StackId + LogicalResourceId) is removed, with its objects, and the markers
 * of its settled requests.
 *
 * A Create of it still running is waited for, then what it left is removed
 * too: it may still fail with a cleanup that left its certificate or objects
 * behind, and CloudFormation, which ignores the answer of a Create it
 * cancelled, sends no other event for this resource. The end mark written
 * first makes a Create that would succeed take its certificate back instead.
 * A Create still running at this invocation's deadline (frozen with its
 * sandbox) is left to itself, and the mark with it; otherwise the mark goes
 * at the end.
 *
 * @example
 * ```ts
 * await endResourceWithoutCertificate(event, location, context);
 * ```
 */
export async function endResourceWithoutCertificate(
  event: { readonly StackId: string; readonly LogicalResourceId: string },
  location: CertificateLocation,
  context: CertificateRequestContext,
): Promise<void> {
  const { signal } = context;
  const store = new CredentialStore(context.deps.s3, location.bucketName);
  const scope: ResourceScope = {
    stackId: event.StackId,
    logicalResourceId: event.LogicalResourceId,
  };
  // First, so that a Create claiming while this Delete runs is ended too.
  await markResourceEnded(store, location, scope, signal);
  const running = await removeSettledWork(store, location, scope, context);
  if (running.length > 0) {
    context.deps.logger.warn(
      'A Create of this resource is still running; waiting for it to end before removing what it left',
      { requests: running },
    );
    if (!(await untilNoneInFlight(store, location, scope, context))) {
      context.deps.logger.warn(
        'A Create of this resource is still running at the deadline; it is left to take back its certificate',
        { requests: running },
      );
      return;
    }
    await removeSettledWork(store, location, scope, context);
  }
  // The mark stays only while a Create of the resource may still need it.
  const stillRunning = (await markersOfResource(store, location, scope, signal)).some(
    ({ marker }) => isInFlight(marker, Date.now()),
  );
  if (!stillRunning) await clearResourceEnded(store, location, scope, signal);
}

/**
 * Removes the resource's recorded certificates, except those of requests
 * still in flight, and the markers of its settled requests.
 *
 * @returns the marker keys of the requests still in flight.
 */
async function removeSettledWork(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  context: CertificateRequestContext,
): Promise<string[]> {
  const { signal } = context;
  const now = Date.now();
  const markers = await markersOfResource(store, location, scope, signal);
  const running = new Set(
    markers.filter(({ marker }) => isInFlight(marker, now)).map(({ key }) => key),
  );
  const records = (await certificatesOfResource(store, location, scope, signal)).filter(
    (record) =>
      record.requestId === undefined ||
      !running.has(
        requestMarkerKey({ stackId: scope.stackId, requestId: record.requestId, location }),
      ),
  );
  await sweepCertificates(records, {
    location,
    context,
    why: 'its resource was deleted with a physical id CloudFormation made up',
  });
  const settled = markers.filter(({ key }) => !running.has(key)).map(({ key }) => key);
  await store.deleteMany(settled, signal);
  return [...running];
}

const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 2000;

/**
 * Polls the resource's request markers, with backoff, until none is in
 * flight.
 *
 * @returns false when the invocation's deadline (the signal) came first.
 */
async function untilNoneInFlight(
  store: CredentialStore,
  location: CertificateLocation,
  scope: ResourceScope,
  context: CertificateRequestContext,
): Promise<boolean> {
  const { deps, signal } = context;
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return false;
    try {
      await deps.sleep(Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** attempt), signal);
      const markers = await markersOfResource(store, location, scope, signal);
      if (!markers.some(({ marker }) => isInFlight(marker, Date.now()))) return true;
    } catch (error) {
      if (signal.aborted) return false;
      throw error;
    }
  }
}
