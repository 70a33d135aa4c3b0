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
 * of its settled requests. A Create of it still running is left to itself:
 * the end mark written first makes it take its certificate back before it
 * would record success; the mark is removed when no Create of the resource
 * is running any more.
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
  const now = Date.now();
  const markers = await markersOfResource(store, location, scope, signal);
  const inFlight = markers.filter(({ marker }) => isInFlight(marker, now));
  if (inFlight.length > 0) {
    context.deps.logger.warn(
      'A Create of this resource is still running; it will take back its certificate',
      { requests: inFlight.map(({ key }) => key) },
    );
  }
  const running = new Set(inFlight.map(({ key }) => key));
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
  const settled = markers.filter(({ marker }) => !isInFlight(marker, now)).map(({ key }) => key);
  await store.deleteMany(settled, signal);
  // The mark stays only while a Create of the resource may still need it.
  const stillRunning = (await markersOfResource(store, location, scope, signal)).some(
    ({ marker }) => isInFlight(marker, Date.now()),
  );
  if (!stillRunning) await clearResourceEnded(store, location, scope, signal);
}
