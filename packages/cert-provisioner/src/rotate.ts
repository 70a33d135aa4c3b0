import { deprovision, type DeprovisionResult } from './deprovision';
import { provision, type ProvisionInput, type ProvisionResult } from './provision';
import type { ProvisionerDeps } from './provisioner-deps';

/** Input of {@link rotate}: where and how to make the new certificate, and the old one. */
export interface RotateInput extends Omit<ProvisionInput, 'replacesCertificateId'> {
  /** The certificate being replaced; removed with its folder once the new one is stored. */
  readonly oldCertificateId: string;
  /**
   * Longest wait for the old certificate's things to be detached, in ms.
   * @default 30000
   */
  readonly detachTimeoutMs?: number;
}

/** What {@link rotate} did. */
export interface RotateResult {
  readonly provisioned: ProvisionResult;
  readonly revoked: DeprovisionResult;
}

/**
 * Replaces a thing's certificate: the new one is created and stored in its
 * own folder and the pointer moved to it first, and the old one is
 * deprovisioned (its folder and fixed files only) after that succeeded. If
 * the new one fails, the old one and the pointer are untouched. Moving thing and policy attachments to the new certificate is the
 * caller's job (in CloudFormation, the attachment resources do it); the old
 * certificate's removal waits for its things to be detached.
 *
 * @example
 * ```ts
 * const { provisioned } = await rotate(
 *   { thingName: 'sensor-1', bucketName: 'my-creds', oldCertificateId },
 *   { iot, s3 },
 * );
 * ```
 */
export async function rotate(input: RotateInput, deps: ProvisionerDeps): Promise<RotateResult> {
  const { oldCertificateId, detachTimeoutMs, ...rest } = input;
  const provisioned = await provision(rest, deps);
  const revoked = await deprovision(
    {
      certificateId: oldCertificateId,
      thingName: input.thingName,
      bucketName: input.bucketName,
      keyPrefix: input.keyPrefix,
      fileNames: input.fileNames,
      ...(detachTimeoutMs !== undefined ? { detachTimeoutMs } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    },
    deps,
  );
  return { provisioned, revoked };
}
