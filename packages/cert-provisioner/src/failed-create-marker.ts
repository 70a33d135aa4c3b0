import { requestIdOfCreateFailedMarker, type DeleteEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import type { CertificateRequestDeps } from './certificate-request-context';
import { recordsOfRequest } from './certificate-record';
import { CredentialStore } from './credential-store';
import { deprovision } from './deprovision';
import { requestMarkerKey } from './request-claim';

/**
 * The rollback Delete of a failed Create. A certificate the Create made and
 * could not remove (its cleanup failed, or the deadline guard answered while
 * the cleanup ran and Lambda froze it) is still named by its record, which
 * was written as soon as it existed: it is deprovisioned now, with its
 * objects and record, so nothing is orphaned.
 *
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
  deps: Pick<CertificateRequestDeps, 'iot' | 's3' | 'logger' | 'sleep'>,
): Promise<void> {
  const createRequestId = requestIdOfCreateFailedMarker(event.PhysicalResourceId);
  if (createRequestId === undefined) return;
  const props = readProperties();
  const location = {
    thingName: props.thingName,
    bucketName: props.bucketName,
    keyPrefix: props.keyPrefix,
  };
  const request = { stackId: event.StackId, requestId: createRequestId };
  const store = new CredentialStore(deps.s3, props.bucketName);
  for (const record of await recordsOfRequest(store, location, request)) {
    deps.logger.warn('The failed Create left a certificate behind; removing it', {
      certificateId: record.certificateId,
    });
    await deprovision({ certificateId: record.certificateId, ...location }, deps);
  }
  const key = requestMarkerKey({ ...request, location });
  await store.deleteMany([key]);
  deps.logger.info('Removed the request marker of the failed Create', { step: 'cleanup' });
}
