import { redactPem } from '@thingcert/cfn-response';

/** Steps of {@link provision}, named in errors and logs. */
export type ProvisionStep =
  | 'generateKey'
  | 'describeEndpoint'
  | 'createCertificate'
  | 'recordCertificate'
  | 'storeCertificate'
  | 'storePublicKey'
  | 'storePrivateKey'
  | 'storeCredentialPointer';

/** Steps of {@link deprovision}, named in errors and logs. */
export type DeprovisionStep =
  | 'describeCertificate'
  | 'moveCredentialPointer'
  | 'waitForThingDetachment'
  | 'detachPolicies'
  | 'deactivateCertificate'
  | 'deleteCertificate'
  | 'listObjects'
  | 'deleteObjects';

/**
 * One line describing `cause` for an error message: `Name: message`, PEM
 * blocks removed (`redactPem` of `@thingcert/cfn-response`), first line only,
 * bounded length. AWS error messages carry no key material, but the scrub
 * makes that a guarantee rather than a hope.
 */
export function describeCause(cause: unknown): string {
  let text: string;
  if (cause instanceof Error) {
    const message = cause.message.trim() || '(no message)';
    text = cause.name && cause.name !== 'Error' ? `${cause.name}: ${message}` : message;
  } else {
    text = typeof cause === 'string' ? cause : `non-error thrown (${typeof cause})`;
  }
  const line = redactPem(text).split(/\r?\n/)[0] ?? '';
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/** How the cleanup after a failed {@link provision} went. */
export type CompensationOutcome = 'not-needed' | 'done' | 'failed';

/**
 * A step of {@link provision} failed for a thing. When a certificate had been
 * created, it was set INACTIVE and deleted and its objects removed before this
 * was thrown (`compensation: 'done'`); `'failed'` names the certificate id left
 * behind for a human to remove.
 */
export class ProvisioningError extends Error {
  readonly thingName: string;
  readonly step: ProvisionStep;
  readonly certificateId: string | undefined;
  readonly compensation: CompensationOutcome;

  constructor(
    details: {
      thingName: string;
      step: ProvisionStep;
      certificateId?: string;
      compensation: CompensationOutcome;
      compensationProblem?: string;
    },
    options?: ErrorOptions,
  ) {
    let message = `Provisioning thing "${details.thingName}" failed at step ${details.step}: ${describeCause(options?.cause)}`;
    if (details.compensation === 'failed') {
      message += `; cleanup of certificate ${details.certificateId ?? '?'} also failed (${details.compensationProblem ?? 'unknown'}): remove it by hand`;
    }
    super(message, options);
    this.name = 'ProvisioningError';
    this.thingName = details.thingName;
    this.step = details.step;
    this.certificateId = details.certificateId;
    this.compensation = details.compensation;
  }
}

/** A step of {@link deprovision} failed for a thing's certificate. Safe to retry. */
export class DeprovisioningError extends Error {
  readonly thingName: string;
  readonly step: DeprovisionStep;
  readonly certificateId: string;

  constructor(
    details: { thingName: string; step: DeprovisionStep; certificateId: string },
    options?: ErrorOptions,
  ) {
    super(
      `Deprovisioning certificate ${details.certificateId} of thing "${details.thingName}" failed at step ${details.step}: ${describeCause(options?.cause)}`,
      options,
    );
    this.name = 'DeprovisioningError';
    this.thingName = details.thingName;
    this.step = details.step;
    this.certificateId = details.certificateId;
  }
}

/**
 * A credential object already exists and belongs to a certificate we were not
 * asked to replace: we refuse to overwrite it silently.
 */
export class ObjectConflictError extends Error {
  readonly key: string;
  readonly ownerCertificateId: string | undefined;

  constructor(details: { bucketName: string; key: string; ownerCertificateId?: string }) {
    super(
      `s3://${details.bucketName}/${details.key} already holds ${
        details.ownerCertificateId
          ? `certificate ${details.ownerCertificateId}`
          : 'an unrecognised object'
      }; refusing to overwrite it (delete that certificate first, or use another KeyPrefix)`,
    );
    this.name = 'ObjectConflictError';
    this.key = details.key;
    this.ownerCertificateId = details.ownerCertificateId;
  }
}

/** A custom-resource property is missing or invalid; the message names it. */
export class InvalidPropertyError extends Error {
  readonly property: string;

  constructor(property: string, problem: string) {
    super(`Invalid property ${property}: ${problem}`);
    this.name = 'InvalidPropertyError';
    this.property = property;
  }
}

/**
 * Another delivery of the same CloudFormation request (same StackId and
 * RequestId) failed, or did not finish while this one waited for it.
 */
export class DuplicateRequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DuplicateRequestError';
  }
}

/**
 * What CloudFormation believes exists is gone or changed (certificate deleted
 * out of band, credential objects missing): an in-place Update cannot answer
 * the same data.
 */
export class ResourceDriftError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResourceDriftError';
  }
}

/**
 * CloudFormation ended the custom resource (a Delete whose physical id is no
 * certificate) while this Create was still running: the certificate it made
 * is taken back instead of answered, since no resource would ever hold it.
 */
export class ResourceEndedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResourceEndedError';
  }
}

/** Work stopped because the Lambda deadline is close. */
export class DeadlineError extends Error {
  constructor(message = 'Stopped: the Lambda deadline is close') {
    super(message);
    this.name = 'DeadlineError';
  }
}

function named<T extends Error>(name: string) {
  return (error: unknown): error is T => error instanceof Error && error.name === name;
}

/** Type guard that works across package copies. */
export const isProvisioningError = named<ProvisioningError>('ProvisioningError');
/** Type guard that works across package copies. */
export const isDeprovisioningError = named<DeprovisioningError>('DeprovisioningError');
/** Type guard that works across package copies. */
export const isObjectConflictError = named<ObjectConflictError>('ObjectConflictError');
/** Type guard that works across package copies. */
export const isInvalidPropertyError = named<InvalidPropertyError>('InvalidPropertyError');
/** Type guard that works across package copies. */
export const isDuplicateRequestError = named<DuplicateRequestError>('DuplicateRequestError');
/** Type guard that works across package copies. */
export const isResourceDriftError = named<ResourceDriftError>('ResourceDriftError');
/** Type guard that works across package copies. */
export const isDeadlineError = named<DeadlineError>('DeadlineError');
/** Type guard that works across package copies. */
export const isResourceEndedError = named<ResourceEndedError>('ResourceEndedError');

/**
 * True when `error` is an AWS SDK service error with one of `names` (SDK v3
 * sets `name` from the service's error code).
 */
export function isAwsErrorNamed(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** HTTP status of an AWS SDK error, when there was a response. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return metadata?.httpStatusCode;
}

/**
 * A fleet function's environment (set by the `ProvisionedFleet` construct) is
 * missing or invalid: a deployment fault, not the device's.
 */
export class FleetConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FleetConfigurationError';
  }
}

/**
 * The deregistration function got an event that is neither a CloudFormation
 * custom-resource request nor an Auto Scaling termination lifecycle event.
 */
export class UnrecognizedFleetEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnrecognizedFleetEventError';
  }
}

/** Deregistering a fleet thing failed at `step`; safe to retry (every step tolerates work already done). */
export class FleetDeregistrationError extends Error {
  readonly thingName: string;
  readonly step: FleetDeregistrationStep;

  constructor(
    details: { thingName: string; step: FleetDeregistrationStep },
    options?: ErrorOptions,
  ) {
    super(
      `Deregistering fleet thing "${details.thingName}" failed at step ${details.step}: ${describeCause(options?.cause)}`,
      options,
    );
    this.name = 'FleetDeregistrationError';
    this.thingName = details.thingName;
    this.step = details.step;
  }
}

/** Steps of `deregisterFleetThing`, named in errors and logs. */
export type FleetDeregistrationStep =
  | 'listPrincipals'
  | 'detachPrincipal'
  | 'deactivateCertificate'
  | 'waitForDetachment'
  | 'deleteCertificate'
  | 'deleteThing';

/** Type guard that works across package copies. */
export const isFleetConfigurationError = named<FleetConfigurationError>('FleetConfigurationError');
/** Type guard that works across package copies. */
export const isUnrecognizedFleetEventError = named<UnrecognizedFleetEventError>(
  'UnrecognizedFleetEventError',
);
/** Type guard that works across package copies. */
export const isFleetDeregistrationError = named<FleetDeregistrationError>(
  'FleetDeregistrationError',
);
