import { certificateRecordKey } from './certificate-record';
import { CredentialStore } from './credential-store';
import type { CertificateProperties } from './certificate-properties';
import type { CertificateRequestDeps, MadeCertificate } from './certificate-request-context';
import { deprovision, type DeprovisionResult } from './deprovision';
import { describeCause } from './errors';
import type { Provisioned, ProvisionResult } from './provision';
import { recordFailure } from './request-claim';

/**
 * Takes back a certificate this invocation made. After a rotation the
 * folder holds the new certificate's files over the replaced one's, which
 * CloudFormation still tracks: those are put back first. Then deprovision
 * finds the replaced certificate in the folder and keeps the files (its
 * "files hold this certificate" check), removing only the new certificate
 * and its markers.
 */
export async function takeBackCertificate(
  result: ProvisionResult,
  props: CertificateProperties,
  made: Provisioned | undefined,
  deps: CertificateRequestDeps,
): Promise<DeprovisionResult> {
  const { logger } = deps;
  const base = {
    certificateId: result.certificateId,
    thingName: props.thingName,
    detachTimeoutMs: 0,
  };
  if (made && made.replacedKeys.length > 0) {
    logger.warn('Putting back the objects of the replaced certificate', {
      certificateId: result.certificateId,
      objects: made.replacedKeys,
    });
    const problem = await made.restoreReplaced();
    if (problem) {
      // The folder is now part old, part new: deleting it by ownership
      // could take the replaced certificate's files. Touch IoT only.
      logger.error(
        'Could not put back all objects of the replaced certificate; leaving the folder as it is',
        { certificateId: result.certificateId, problem },
      );
      const removed = await deprovision(base, deps);
      // The certificate is gone: its record must not outlive it.
      await new CredentialStore(deps.s3, props.bucketName).deleteMany([
        certificateRecordKey(props, result.certificateId),
      ]);
      return removed;
    }
  }
  return deprovision({ ...base, bucketName: props.bucketName, keyPrefix: props.keyPrefix }, deps);
}

/**
 * The response about a certificate this invocation made could not be
 * delivered: CloudFormation never heard of the certificate and will never
 * delete it. Takes it back and marks its request failed, so a redelivery of
 * the request answers FAILED instead of a certificate that is gone. Best
 * effort: a problem is logged, since the delivery error is what the
 * invocation fails with.
 */
export async function takeBackUndelivered(
  made: MadeCertificate,
  deps: CertificateRequestDeps,
): Promise<void> {
  const { outcome, props, provisioned } = made;
  const { logger } = deps;
  logger.error('Response undeliverable: removing the certificate made for it', {
    certificateId: outcome.result.certificateId,
  });
  try {
    await takeBackCertificate(outcome.result, props, provisioned, deps);
    const store = new CredentialStore(deps.s3, props.bucketName);
    await recordFailure(
      outcome.markerKey,
      new Date().toISOString(),
      'the response to CloudFormation could not be delivered',
      (marker) =>
        store.put(outcome.markerKey, JSON.stringify(marker), {
          contentType: 'application/json',
          kmsKeyId: props.kmsKeyId,
        }),
      logger,
    );
  } catch (cleanup) {
    logger.error('Could not remove the certificate after an undeliverable response', {
      certificateId: outcome.result.certificateId,
      error: describeCause(cleanup),
    });
  }
}
