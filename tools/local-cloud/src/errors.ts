/**
 * Errors thrown by the local cloud itself (not the AWS-shaped errors it answers
 * over HTTP, which the SDK turns into its own exception classes).
 */

/** The local cloud could not start, stop or load its state. */
export class LocalCloudError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudError';
  }
}

/** A policy document is not valid JSON or not shaped like an IoT policy. */
export class MalformedPolicyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedPolicyError';
  }
}

/** Command-line arguments the CLI cannot use (answered with usage, exit code 2). */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Type guard that works across package copies (checks `name`, not the class). */
export function isLocalCloudError(error: unknown): error is LocalCloudError {
  return error instanceof Error && error.name === 'LocalCloudError';
}

/** Type guard for {@link MalformedPolicyError}. */
export function isMalformedPolicyError(error: unknown): error is MalformedPolicyError {
  return error instanceof Error && error.name === 'MalformedPolicyError';
}

/**
 * An AWS-shaped service error the local control plane answers with: `code`
 * goes to `x-amzn-errortype`, `message` to the JSON body.
 */
export class IotServiceError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'IotServiceError';
  }
}

/** An S3-shaped error, answered as the XML `<Error>` document S3 sends. */
export class S3ServiceError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3ServiceError';
  }
}

/** An IAM policy document the local IAM or S3 refuses (IAM `MalformedPolicyDocument`, S3 `MalformedPolicy`). */
export class MalformedPolicyDocumentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedPolicyDocumentError';
  }
}

/**
 * A call to the local IAM (in process or over the admin endpoint) that it refuses, with IAM's
 * error code: `NoSuchEntity`, `MalformedPolicyDocument` or `ValidationError`.
 */
export class LocalIamError extends Error {
  constructor(
    readonly code: 'NoSuchEntity' | 'MalformedPolicyDocument' | 'ValidationError' | 'AccessDenied',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'LocalIamError';
  }
}

/** Type guard for {@link LocalIamError}, across package copies. */
export function isLocalIamError(error: unknown): error is LocalIamError {
  return error instanceof Error && error.name === 'LocalIamError';
}

/**
 * A provisioning template AWS would refuse: at CreateProvisioningTemplate (not valid JSON, an
 * unsupported resource type or intrinsic function) or while RegisterThing evaluates it (a
 * parameter without a value, `Fn::Select` out of bounds, a missing mapping key).
 */
export class ProvisioningTemplateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProvisioningTemplateError';
  }
}

/**
 * A fleet provisioning MQTT API request refused: answered on the operation's `/rejected` topic
 * as `{ statusCode, errorCode, errorMessage }`.
 */
export class FleetProvisioningError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FleetProvisioningError';
  }
}

/** The pre-provisioning hook could not be asked (no Lambda invoker, the function failed or timed out). */
export class PreProvisioningHookError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PreProvisioningHookError';
  }
}
