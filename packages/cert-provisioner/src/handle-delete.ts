import type { DeleteEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import { isOwnCertificate } from './certificate-record';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { CredentialStore } from './credential-store';
import { deprovision } from './deprovision';
import { describeCause } from './errors';

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
 * of its objects, but only of a certificate this provisioner made for this
 * thing (its record, or a request marker naming it, is in the thing's
 * folder). Any other id, including a certificate we did not make or one we
 * cannot place because the properties are unusable, is acknowledged without
 * touching anything and logged: CloudFormation must be able to finish, and a
 * crafted Delete must not remove somebody else's certificate.
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
  if (certificateId === undefined) {
    deps.logger.info('Physical id is not a certificate id; nothing to delete');
    return;
  }
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
  const store = new CredentialStore(deps.s3, props.bucketName);
  if (!(await isOwnCertificate(store, props, certificateId, signal))) {
    deps.logger.warn(
      'Delete names a certificate this provisioner did not make for this thing; leaving it',
      { certificateId },
    );
    return;
  }
  await deprovision(
    {
      certificateId,
      thingName: props.thingName,
      signal,
      bucketName: props.bucketName,
      keyPrefix: props.keyPrefix,
      ...(request.detachTimeoutMs !== undefined
        ? { detachTimeoutMs: request.detachTimeoutMs }
        : {}),
    },
    deps,
  );
}
