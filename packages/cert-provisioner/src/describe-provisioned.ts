import { DescribeCertificateCommand, DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { certificateObjectKeys, credentialPointerKey } from '@thingcert/contracts';
import { locateCertificateObjects } from './certificate-objects';
import { CredentialStore } from './credential-store';
import { isAwsErrorNamed, ResourceDriftError } from './errors';
import type { CertificateLocation } from './layout';
import type { ProvisionResult } from './provision';
import type { ProvisionerDeps } from './provisioner-deps';

/** Input of {@link describeProvisioned}. */
export interface DescribeProvisionedInput extends CertificateLocation {
  readonly certificateId: string;
  /** @default never aborts */
  readonly signal?: AbortSignal;
}

/**
 * Re-reads what {@link provision} returned for an existing certificate, from
 * AWS IoT and S3, checking it still stands: the certificate exists and its
 * objects are there, in its own folder or (a certificate made before the
 * pointer layout) in the fixed per-thing files, which must still hold it.
 *
 * @throws {ResourceDriftError} when the certificate or its object is gone or replaced.
 * @example
 * ```ts
 * const same = await describeProvisioned({ certificateId, thingName, bucketName }, { iot, s3 });
 * ```
 */
export async function describeProvisioned(
  input: DescribeProvisionedInput,
  deps: ProvisionerDeps,
): Promise<ProvisionResult> {
  const signalOption = { abortSignal: input.signal };
  const { certificateId } = input;
  let certificateArn: string | undefined;
  try {
    const out = await deps.iot.send(
      new DescribeCertificateCommand({ certificateId }),
      signalOption,
    );
    certificateArn = out.certificateDescription?.certificateArn;
  } catch (error) {
    if (!isAwsErrorNamed(error, 'ResourceNotFoundException')) throw error;
  }
  if (!certificateArn) {
    throw new ResourceDriftError(
      `Certificate ${certificateId} of thing "${input.thingName}" no longer exists; change RotationToken to make a new one`,
    );
  }
  const endpoint = await deps.iot.send(
    new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }),
    signalOption,
  );
  const located = await locateCertificateObjects(
    new CredentialStore(deps.s3, input.bucketName),
    input,
    certificateId,
    input.signal,
  );
  if (!located) {
    throw new ResourceDriftError(
      `s3://${input.bucketName}/${certificateObjectKeys(input, certificateId).certificate} (or the thing's fixed files) no longer holds certificate ${certificateId}; change RotationToken to make a new one`,
    );
  }
  if (!endpoint.endpointAddress) throw new Error('DescribeEndpoint returned no endpointAddress');
  return {
    certificateId,
    certificateArn,
    endpoint: endpoint.endpointAddress,
    bucketName: input.bucketName,
    objects: located.objects,
    credentialPointerObjectKey: credentialPointerKey(input),
  };
}
