import type { DeleteEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import {
  isOwnCertificate,
  listCertificateRecords,
  type CertificateRecord,
} from './certificate-record';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { endResourceWithoutCertificate, sweepCertificates } from './certificate-sweep';
import { CredentialStore } from './credential-store';
import { deprovision } from './deprovision';
import { describeCause } from './errors';
import { requestMarkerKey } from './request-claim';
import type { CertificateLocation } from './layout';
import { certificatesOfFailedRequests, markersOfResource } from './unheld-certificates';

/** What {@link handleDelete} needs beyond the event. */
export interface DeleteRequest {
  /** Reads the properties; may throw, and a Delete goes on without them. */
  readonly readProperties: () => CertificateProperties;
  /** `ThingName` as sent, to name the thing when the properties are invalid. */
  readonly thingNameAsSent: string | undefined;
  /**
   * Longest wait for asynchronous thing detachment, in ms.
   * @default deprovision's default
   */
  readonly detachTimeoutMs?: number;
}

/**
 * A Delete: {@link deprovision} of the certificate the physical id names, and
 * of its objects only, moving the thing's pointer back to the newest other
 * usable certificate when it named this one; but only of a certificate this
 * provisioner made for this thing (its record, or a request marker naming it,
 * is in the thing's folder). Any other certificate id, or one we cannot place
 * because the properties are unusable, is acknowledged without touching
 * anything and logged: CloudFormation must be able to finish, and a crafted
 * Delete must not remove somebody else's certificate. Certificates of the
 * stack left by requests never answered SUCCESS go too (best effort).
 *
 * A physical id that is no certificate at all is one CloudFormation made up
 * for a Create that never answered: every certificate recorded for that
 * resource goes ({@link endResourceWithoutCertificate}).
 *
 * @example
 * ```ts
 * await handleDelete(event, { readProperties: () => props, thingNameAsSent: 'sensor-1' }, context);
 * ```
 */
export async function handleDelete(
  event: DeleteEvent,
  request: DeleteRequest,
  context: CertificateRequestContext,
): Promise<void> {
  const { deps, signal } = context;
  const certificateId = certificateIdOf(event.PhysicalResourceId);
  let props: CertificateProperties;
  try {
    props = request.readProperties();
  } catch (error) {
    deps.logger.warn(
      'Delete with invalid properties: cannot tell whether the certificate is ours; leaving it',
      { certificateId, thingName: request.thingNameAsSent, reason: describeCause(error) },
    );
    return;
  }
  const location = {
    thingName: props.thingName,
    bucketName: props.bucketName,
    keyPrefix: props.keyPrefix,
  };
  if (certificateId === undefined) {
    deps.logger.info(
      'Physical id is not a certificate id: removing what was made for this resource, if anything',
    );
    await endResourceWithoutCertificate(event, location, context);
    return;
  }
  const store = new CredentialStore(deps.s3, props.bucketName);
  if (!(await isOwnCertificate(store, props, certificateId, signal))) {
    deps.logger.warn(
      'Delete names a certificate this provisioner did not make for this thing; leaving it',
      { certificateId },
    );
    return;
  }
  const unheld = await failedRequestCertificates(event, certificateId, location, context);
  await deprovision(
    {
      ...location,
      certificateId,
      signal,
      alsoRemoving: unheld.map((record) => record.certificateId),
      ...(request.detachTimeoutMs !== undefined
        ? { detachTimeoutMs: request.detachTimeoutMs }
        : {}),
    },
    deps,
  );
  await sweepCertificates(unheld, {
    location,
    context,
    leaving: [certificateId],
    why: 'made by a request that was never answered SUCCESS',
  });
  await removeSpentTombstones(event, location, context);
}

/**
 * The markers of this resource's requests that failed and left no
 * certificate (a rotation Update whose own cleanup succeeded): tombstones that
 * stopped a late duplicate of that request from minting a certificate.
 * CloudFormation has since sent this Delete, so those requests are long over;
 * like the markers of succeeded requests, which go with their certificate,
 * they go now, or the stack's delete would leave them in the bucket. A
 * failed request whose certificate is still recorded keeps its marker: the
 * sweeps need it. Best effort: a problem is logged.
 */
async function removeSpentTombstones(
  event: DeleteEvent,
  location: CertificateLocation,
  context: CertificateRequestContext,
): Promise<void> {
  const { deps, signal } = context;
  const store = new CredentialStore(deps.s3, location.bucketName);
  try {
    const scope = { stackId: event.StackId, logicalResourceId: event.LogicalResourceId };
    const failed = (await markersOfResource(store, location, scope, signal)).filter(
      ({ marker }) => marker.state === 'failed',
    );
    if (failed.length === 0) return;
    // The markers of requests whose certificate is still recorded.
    const kept = new Set(
      (await listCertificateRecords(store, location, signal)).flatMap(({ requestId }) =>
        requestId === undefined
          ? []
          : [requestMarkerKey({ stackId: event.StackId, requestId, location })],
      ),
    );
    const spent = failed.filter(({ key }) => !kept.has(key));
    if (spent.length === 0) return;
    await store.deleteMany(
      spent.map(({ key }) => key),
      signal,
    );
    deps.logger.info('Removed the markers of failed requests that left no certificate', {
      markers: spent.length,
    });
  } catch (error) {
    deps.logger.warn('Could not remove the markers of failed requests', {
      error: describeCause(error),
    });
  }
}

/** `certificatesOfFailedRequests` for the Delete's folder; a problem is logged and means none. */
async function failedRequestCertificates(
  event: DeleteEvent,
  certificateId: string,
  location: CertificateLocation,
  context: CertificateRequestContext,
): Promise<CertificateRecord[]> {
  try {
    return await certificatesOfFailedRequests(
      new CredentialStore(context.deps.s3, location.bucketName),
      location,
      { stackId: event.StackId, keep: new Set([certificateId]), now: Date.now() },
      context.signal,
    );
  } catch (error) {
    context.deps.logger.warn('Could not look for certificates of failed requests', {
      error: describeCause(error),
    });
    return [];
  }
}
