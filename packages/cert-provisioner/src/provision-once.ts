import type { CustomResourceEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import type { CertificateRequestContext } from './certificate-request-context';
import { CredentialStore } from './credential-store';
import { provisionRestorable, type Provisioned, type ProvisionResult } from './provision';
import { runClaimed } from './request-claim';
import { takeBackCertificate } from './take-back-certificate';

/**
 * Makes the certificate of one CloudFormation request (a Create, or an Update
 * that replaces the certificate) at most once per request (StackId +
 * RequestId), even when CloudFormation delivers it twice at the same time: a
 * duplicate delivery answers the first one's certificate. When this delivery
 * made it, the context's `recordMade` hears of it, so that it can be taken
 * back if CloudFormation is never told.
 *
 * @param replacesCertificateId the certificate whose objects in the same folder may be overwritten (rotation).
 * @example
 * ```ts
 * const result = await provisionOnce(event, props, context);
 * ```
 */
export async function provisionOnce(
  event: Pick<CustomResourceEvent, 'StackId' | 'RequestId'>,
  props: CertificateProperties,
  context: CertificateRequestContext,
  replacesCertificateId?: string,
): Promise<ProvisionResult> {
  const { deps, signal } = context;
  const location = {
    thingName: props.thingName,
    bucketName: props.bucketName,
    keyPrefix: props.keyPrefix,
  };
  // Kept to put the replaced certificate's objects back if the new one
  // must be taken back after all. Holds key material: never logged.
  let provisioned: Provisioned | undefined;
  const outcome = await runClaimed(
    {
      stackId: event.StackId,
      requestId: event.RequestId,
      location,
      signal,
      ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
    },
    {
      store: new CredentialStore(deps.s3, props.bucketName),
      logger: deps.logger,
      sleep: deps.sleep,
    },
    async () => {
      provisioned = await provisionRestorable(
        {
          ...location,
          keyMode: props.keyMode,
          keyAlgorithm: props.keyAlgorithm,
          signal,
          ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
          ...(replacesCertificateId ? { replacesCertificateId } : {}),
          recordOrigin: {
            stackId: event.StackId,
            requestId: event.RequestId,
            ...(props.rotationToken !== undefined ? { rotationToken: props.rotationToken } : {}),
          },
        },
        deps,
      );
      return provisioned.result;
    },
    (result) => takeBackCertificate(result, props, provisioned, deps),
  );
  if (outcome.createdHere) context.recordMade({ outcome, props, provisioned });
  return outcome.result;
}
