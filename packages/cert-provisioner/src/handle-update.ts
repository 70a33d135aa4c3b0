import type { UpdateEvent } from '@thingcert/cfn-response';
import { replacementReasons, type CertificateProperties } from './certificate-properties';
import { readCertificateRecord, recordMatches, type CertificateRecord } from './certificate-record';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { sweepFailedRequests } from './certificate-sweep';
import { ensureCredentialPointer } from './credential-pointer-moves';
import { CredentialStore } from './credential-store';
import { describeProvisioned } from './describe-provisioned';
import { describeCause } from './errors';
import { certificateObjectKeys, credentialPointerKey } from '@thingcert/contracts';
import type { CertificateLocation } from './layout';
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
 * would leave the stack in UPDATE_ROLLBACK_FAILED. A kept certificate gets the
 * thing's pointer when the thing has no usable one (the first Update of a
 * certificate made before the pointer layout). Otherwise a new certificate is
 * made in a folder of its own and the pointer moved to it (a new id;
 * CloudFormation then deletes the old one, or the new one if the stack rolls
 * back). Certificates made before records existed are compared through
 * `OldResourceProperties`, as before.
 *
 * Then, best effort, certificates of the stack left by requests never
 * answered SUCCESS are removed from the old and new folders
 * (`sweepFailedRequests`), never the one CloudFormation holds.
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
  const result = await updateCertificate(event, change, context);
  const locations = [change.props, ...(change.old ? [change.old] : [])].filter(
    (location, index, all) => all.findIndex((other) => sameFolder(other, location)) === index,
  );
  await sweepFailedRequests(
    event,
    locations,
    [event.PhysicalResourceId, result.certificateId],
    context,
  );
  return result;
}

function sameFolder(a: CertificateLocation, b: CertificateLocation): boolean {
  return (
    a.thingName === b.thingName && a.bucketName === b.bucketName && a.keyPrefix === b.keyPrefix
  );
}

async function updateCertificate(
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

  let { reasons } = change;
  if (record) {
    // The record, not OldResourceProperties, says what the certificate is.
    reasons = replacementReasons({ ...props, ...recordedProperties(record) }, props);
  } else if (reasons.length === 0 && oldId) {
    deps.logger.info('Update keeps the certificate', { certificateId: oldId });
    const location = {
      thingName: props.thingName,
      bucketName: props.bucketName,
      keyPrefix: props.keyPrefix,
    };
    await pointAtKept(location, oldId, context);
    return describeProvisioned({ ...location, certificateId: oldId, signal }, deps);
  }
  deps.logger.info('Update replaces the certificate', {
    changed: reasons,
    oldCertificateId: oldId,
  });
  return provisionOnce(event, props, context);
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
 * Gives the thing a usable pointer, on the kept certificate if it has none
 * ({@link ensureCredentialPointer}). Best effort: a problem is logged, never
 * thrown, since the Update keeping a certificate must not fail.
 */
async function pointAtKept(
  location: CertificateLocation,
  certificateId: string,
  context: CertificateRequestContext,
): Promise<void> {
  const { deps, signal } = context;
  try {
    await ensureCredentialPointer({
      deps,
      store: new CredentialStore(deps.s3, location.bucketName),
      location,
      certificateId,
      signal,
    });
  } catch (error) {
    deps.logger.warn('Could not check or write the credential pointer', {
      certificateId,
      error: describeCause(error),
    });
  }
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
  await pointAtKept(location, certificateId, context);
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
      objects: certificateObjectKeys(location, certificateId),
      credentialPointerObjectKey: credentialPointerKey(location),
    };
  }
}
