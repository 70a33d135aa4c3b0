import type { UpdateEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { describeProvisioned } from './describe-provisioned';
import type { ProvisionResult } from './provision';
import { provisionOnce } from './provision-once';

/** The properties of an Update, as the handler read them. */
export interface UpdateChange {
  /** The new properties. */
  readonly props: CertificateProperties;
  /** The properties before, or `undefined` when those are not valid properties. */
  readonly old: CertificateProperties | undefined;
  /** The changed properties that need a new certificate, in CloudFormation spelling; empty: keep it. */
  readonly reasons: readonly string[];
}

/**
 * An Update: with no `reasons` the certificate stays and its result is re-read
 * from IoT and S3 (same id, same Data); otherwise a new certificate is made
 * (a new id, and CloudFormation then deletes the old one). The new one may
 * overwrite the old one's files only when both live in the same folder.
 *
 * @throws {ResourceDriftError} when the certificate to keep is gone or replaced.
 * @example
 * ```ts
 * const result = await handleUpdate(event, { props, old, reasons: ['RotationToken'] }, context);
 * ```
 */
export async function handleUpdate(
  event: UpdateEvent,
  change: UpdateChange,
  context: CertificateRequestContext,
): Promise<ProvisionResult> {
  const { props, old, reasons } = change;
  const { deps, signal } = context;
  const oldId = certificateIdOf(event.PhysicalResourceId);
  if (reasons.length === 0 && oldId) {
    deps.logger.info('Update keeps the certificate', { certificateId: oldId });
    return describeProvisioned(
      {
        certificateId: oldId,
        thingName: props.thingName,
        bucketName: props.bucketName,
        keyPrefix: props.keyPrefix,
        signal,
      },
      deps,
    );
  }
  deps.logger.info('Update replaces the certificate', {
    changed: reasons,
    oldCertificateId: oldId,
  });
  const sameFolder =
    old !== undefined &&
    old.thingName === props.thingName &&
    old.bucketName === props.bucketName &&
    old.keyPrefix === props.keyPrefix;
  return provisionOnce(event, props, context, sameFolder ? oldId : undefined);
}
