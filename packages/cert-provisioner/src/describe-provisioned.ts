import { DescribeCertificateCommand, DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { CredentialStore, certificateIdOfPem } from './credential-store';
import { isAwsErrorNamed, ResourceDriftError } from './errors';
import { credentialObjectKeys } from '@thingcert/contracts';
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
 * AWS IoT and S3, checking it still stands: the certificate exists and the
 * certificate object still holds it.
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
  const objects = credentialObjectKeys(input);
  const stored = await new CredentialStore(deps.s3, input.bucketName).get(
    objects.certificate,
    input.signal,
  );
  if (!stored || certificateIdOfPem(stored.body) !== certificateId) {
    throw new ResourceDriftError(
      `s3://${input.bucketName}/${objects.certificate} no longer holds certificate ${certificateId}; change RotationToken to make a new one`,
    );
  }
  if (!endpoint.endpointAddress) throw new Error('DescribeEndpoint returned no endpointAddress');
  return {
    certificateId,
    certificateArn,
    endpoint: endpoint.endpointAddress,
    bucketName: input.bucketName,
    objects,
  };
}
