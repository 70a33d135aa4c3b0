import type { DeleteEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import { isOwnCertificate, type CertificateRecord } from './certificate-record';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { endResourceWithoutCertificate, sweepCertificates } from './certificate-sweep';
import { CredentialStore } from './credential-store';
import { deprovision } from './deprovision';
import { describeCause } from './errors';
import type { CertificateLocation } from './layout';
import { certificatesOfFailedRequests } from './unheld-certificates';

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
