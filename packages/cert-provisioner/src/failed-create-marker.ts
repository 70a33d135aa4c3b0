import { requestIdOfCreateFailedMarker, type DeleteEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import type { CertificateRequestDeps } from './certificate-request-context';
import { CredentialStore } from './credential-store';
import { requestMarkerKey } from './request-claim';

/**
 * The failed Create left its request marker as a tombstone (so a late
 * duplicate could not make a certificate nobody tracks). CloudFormation's
 * rollback Delete is the end of that request: remove it, so deleting the
 * stack leaves no object behind. The properties are read only for a Delete
 * of a failed Create's marker id.
 *
 * @example
 * ```ts
 * await removeFailedRequestMarker(event, () => props, { s3, logger });
 * ```
 */
export async function removeFailedRequestMarker(
  event: DeleteEvent,
  readProperties: () => CertificateProperties,
  deps: Pick<CertificateRequestDeps, 's3' | 'logger'>,
): Promise<void> {
  const createRequestId = requestIdOfCreateFailedMarker(event.PhysicalResourceId);
  if (createRequestId === undefined) return;
  const props = readProperties();
  const key = requestMarkerKey({
    stackId: event.StackId,
    requestId: createRequestId,
    location: {
      thingName: props.thingName,
      bucketName: props.bucketName,
      keyPrefix: props.keyPrefix,
    },
  });
  await new CredentialStore(deps.s3, props.bucketName).deleteMany([key]);
  deps.logger.info('Removed the request marker of the failed Create', { step: 'cleanup' });
}
