import { CredentialStore } from './credential-store';
import type { CertificateProperties } from './certificate-properties';
import type { CertificateRequestDeps, MadeCertificate } from './certificate-request-context';
import { deprovision, type DeprovisionResult } from './deprovision';
import { describeCause } from './errors';
import type { Provisioned, ProvisionResult } from './provision';
import { recordFailure } from './request-claim';

/**
 * Takes back a certificate this invocation made. It has a folder of its own,
 * so nothing of the certificate it replaced is touched: the pointer it moved
 * is put back first (best effort), then deprovision removes the new
 * certificate, its folder, record and markers, and moves the pointer off it
 * if putting it back failed.
 */
export async function takeBackCertificate(
  result: ProvisionResult,
  props: CertificateProperties,
  made: Provisioned | undefined,
  deps: CertificateRequestDeps,
): Promise<DeprovisionResult> {
  const { logger } = deps;
  if (made && made.replacedKeys.length > 0) {
    logger.warn('Putting the credential pointer back', {
      certificateId: result.certificateId,
      objects: made.replacedKeys,
    });
    const problem = await made.restoreReplaced();
    if (problem) {
      logger.warn('Could not put the pointer back; deprovision moves it off the certificate', {
        certificateId: result.certificateId,
        problem,
      });
    }
  }
  return deprovision(
    {
      certificateId: result.certificateId,
      thingName: props.thingName,
      bucketName: props.bucketName,
      keyPrefix: props.keyPrefix,
      detachTimeoutMs: 0,
    },
    deps,
  );
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
      outcome.markerBase,
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
