import type { CustomResourceEvent } from '@thingcert/cfn-response';
import { credentialPointerKey } from '@thingcert/contracts';
import type { CertificateProperties } from './certificate-properties';
import type { CertificateRequestContext } from './certificate-request-context';
import { CredentialStore } from './credential-store';
import { ResourceEndedError } from './errors';
import { provisionRestorable, type Provisioned, type ProvisionResult } from './provision';
import { runClaimed, type RequestMarkerBase } from './request-claim';
import { clearResourceEnded, isResourceEndedSince } from './resource-end';
import { takeBackCertificate } from './take-back-certificate';

/** The fields of a Create or Update event that {@link provisionOnce} reads. */
export type ProvisioningEvent = Pick<
  CustomResourceEvent,
  'RequestType' | 'StackId' | 'RequestId' | 'LogicalResourceId'
>;

/**
 * Makes the certificate of one CloudFormation request (a Create, or an Update
 * that replaces the certificate) at most once per request (StackId +
 * RequestId), even when CloudFormation delivers it twice at the same time: a
 * duplicate delivery answers the first one's certificate. When this delivery
 * made it, the context's `recordMade` hears of it, so that it can be taken
 * back if CloudFormation is never told. A Create whose resource a Delete
 * ended meanwhile (`endResourceWithoutCertificate`) takes its certificate
 * back and fails with {@link ResourceEndedError}.
 *
 * @example
 * ```ts
 * const result = await provisionOnce(event, props, context);
 * ```
 */
export async function provisionOnce(
  event: ProvisioningEvent,
  props: CertificateProperties,
  context: CertificateRequestContext,
): Promise<ProvisionResult> {
  const { deps, signal } = context;
  const location = {
    thingName: props.thingName,
    bucketName: props.bucketName,
    keyPrefix: props.keyPrefix,
  };
  const store = new CredentialStore(deps.s3, props.bucketName);
  // Kept to put the pointer back if the new certificate must be taken back
  // after all. Never logged.
  let provisioned: Provisioned | undefined;
  const scope = { stackId: event.StackId, logicalResourceId: event.LogicalResourceId };
  const confirm =
    event.RequestType === 'Create'
      ? async (base: RequestMarkerBase) => {
          if (await isResourceEndedSince(store, location, scope, base.claimedAt, signal)) {
            // This Create was what the mark waited for; the take-back follows.
            await clearResourceEnded(store, location, scope);
            throw new ResourceEndedError(
              'CloudFormation deleted this resource while its Create was running; the certificate was taken back',
            );
          }
        }
      : undefined;
  const outcome = await runClaimed(
    {
      stackId: event.StackId,
      requestId: event.RequestId,
      logicalResourceId: event.LogicalResourceId,
      location,
      signal,
      ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
    },
    { store, logger: deps.logger, sleep: deps.sleep },
    async () => {
      provisioned = await provisionRestorable(
        {
          ...location,
          keyMode: props.keyMode,
          keyAlgorithm: props.keyAlgorithm,
          signal,
          ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
          recordOrigin: {
            stackId: event.StackId,
            requestId: event.RequestId,
            logicalResourceId: event.LogicalResourceId,
            ...(props.rotationToken !== undefined ? { rotationToken: props.rotationToken } : {}),
          },
        },
        deps,
      );
      return provisioned.result;
    },
    (result) => takeBackCertificate(result, props, provisioned, deps),
    confirm,
  );
  if (outcome.createdHere) context.recordMade({ outcome, props, provisioned });
  // A duplicate may answer a result recorded before the pointer layout.
  return {
    ...outcome.result,
    credentialPointerObjectKey:
      outcome.result.credentialPointerObjectKey ?? credentialPointerKey(location),
  };
}
