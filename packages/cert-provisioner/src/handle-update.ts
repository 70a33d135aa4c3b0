import type { UpdateEvent } from '@thingcert/cfn-response';
import { replacementReasons, type CertificateProperties } from './certificate-properties';
import { readCertificateRecord, recordMatches, type CertificateRecord } from './certificate-record';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { CredentialStore } from './credential-store';
import { describeProvisioned } from './describe-provisioned';
import { describeCause } from './errors';
import { credentialObjectKeys } from '@thingcert/contracts';
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
 * An Update. Idempotent first: when the current certificate's record (what it
 * was made with) matches the requested properties, the certificate stays and
 * the same id and Data are answered, never FAILED. That covers the no-op
 * Update and CloudFormation's rollback Update after a failed one (whose
 * `OldResourceProperties` name the failed properties, not the certificate's):
 * rolling back must neither mint a certificate nor fail on drift, which
 * would leave the stack in UPDATE_ROLLBACK_FAILED. Otherwise a new
 * certificate is made (a new id, and CloudFormation then deletes the old
 * one); it may overwrite the old one's files only in the same folder.
 * Certificates made before records existed are compared through
 * `OldResourceProperties`, as before.
 *
 * @throws {ResourceDriftError} when an unrecorded certificate to keep is gone or replaced.
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
  const { props } = change;
  const { deps, signal } = context;
  const oldId = certificateIdOf(event.PhysicalResourceId);
  const record = oldId
    ? await readCertificateRecord(
        new CredentialStore(deps.s3, props.bucketName),
        props,
        oldId,
        signal,
      )
    : undefined;
  if (record && recordMatches(record, props)) return keepRecorded(record, context);

  let { old, reasons } = change;
  if (record) {
    // The record, not OldResourceProperties, says what the certificate is.
    old = { ...props, ...recordedProperties(record) };
    reasons = replacementReasons(old, props);
  } else if (reasons.length === 0 && oldId) {
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

function recordedProperties(record: CertificateRecord) {
  return {
    thingName: record.thingName,
    bucketName: record.bucketName,
    keyPrefix: record.keyPrefix,
    keyMode: record.keyMode,
    keyAlgorithm: record.keyAlgorithm,
    rotationToken: record.rotationToken,
  };
}

/**
 * The certificate already is what was asked for: answer it, re-read from IoT
 * and S3 when possible. Drift (the certificate or its object gone) or an
 * unreadable state is logged as a warning and answered from the record:
 * this direction must never fail.
 */
async function keepRecorded(
  record: CertificateRecord,
  context: CertificateRequestContext,
): Promise<ProvisionResult> {
  const { deps, signal } = context;
  const { certificateId } = record;
  deps.logger.info('Update keeps the certificate: it matches the requested properties', {
    certificateId,
  });
  const location = {
    thingName: record.thingName,
    bucketName: record.bucketName,
    keyPrefix: record.keyPrefix,
  };
  try {
    return await describeProvisioned({ ...location, certificateId, signal }, deps);
  } catch (error) {
    deps.logger.warn('Certificate drifted; answering SUCCESS from its record', {
      certificateId,
      drift: describeCause(error),
    });
    return {
      certificateId,
      certificateArn: record.certificateArn,
      endpoint: record.endpoint,
      bucketName: record.bucketName,
      objects: credentialObjectKeys(location),
    };
  }
}
