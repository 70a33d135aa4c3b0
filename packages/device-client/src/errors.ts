/**
 * Named errors of `@thingcert/device-client`. Every message says what to check;
 * none carries key material. Across package copies use the `isXError` guards,
 * which check `name`, not `instanceof`.
 */

/** A private-key file (or its directory) is readable by group or others. */
export class InsecureKeyFileError extends Error {
  /** The file or directory with loose permissions. */
  readonly path: string;
  /** The command that fixes it, e.g. `chmod 600 /x/private.pem.key`. */
  readonly fix: string;

  constructor(message: string, details: { path: string; fix: string }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InsecureKeyFileError';
    this.path = details.path;
    this.fix = details.fix;
  }
}

/** The certificate and the private key do not belong to the same key pair. */
export class CertificateKeyMismatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CertificateKeyMismatchError';
  }
}

/**
 * Why credentials could not be read from S3 or from disk:
 * - `not-found`, `access-denied`, `no-such-bucket`: what S3 answered
 * - `no-region`, `no-aws-credentials`: the AWS SDK has no region or no
 *   credentials to sign the request with (nothing was sent)
 * - `invalid-pem`: an object or file is not a PEM certificate or key
 * - `invalid-pointer`: the credential pointer is not a valid pointer, or the
 *   certificate it names is not the certificate its id says
 * - `unreadable-file`: a file on disk could not be read
 * - `other`: anything else (the SDK's error name is kept in the message)
 */
export type CredentialsErrorReason =
  | 'not-found'
  | 'access-denied'
  | 'no-such-bucket'
  | 'no-region'
  | 'no-aws-credentials'
  | 'invalid-pem'
  | 'invalid-pointer'
  | 'unreadable-file'
  | 'other';

/** Downloading or reading the certificate, key or CA failed. */
export class CredentialsError extends Error {
  readonly reason: CredentialsErrorReason;
  /** S3 object key or file path involved (never its content). */
  readonly location: string;

  constructor(
    message: string,
    details: { reason: CredentialsErrorReason; location: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CredentialsError';
    this.reason = details.reason;
    this.location = details.location;
  }
}

/**
 * What went wrong while connecting, as far as the client can tell:
 * - `dns`: the endpoint name does not resolve
 * - `refused`: nothing listens on that host and port
 * - `timeout`: no answer in time (firewall, security group, wrong address)
 * - `tls`: TLS handshake failed (CA file, or the server refused the certificate)
 * - `rejected`: the broker closed the connection or refused CONNECT (certificate
 *   not registered or not ACTIVE, or the policy does not allow `iot:Connect`)
 * - `credentials`: certificate or key file could not be loaded
 * - `protocol`: the broker does not speak the requested protocol version
 * - `unknown`: anything else (the native error name is kept)
 */
export type ConnectionFailureReason =
  'dns' | 'refused' | 'timeout' | 'tls' | 'rejected' | 'credentials' | 'protocol' | 'unknown';

/** Connecting (or staying connected) to the broker failed. */
export class DeviceConnectionError extends Error {
  readonly reason: ConnectionFailureReason;
  /** What the operator should check, one sentence. */
  readonly hint: string;
  /** Native aws-crt error name, e.g. `AWS_IO_DNS_INVALID_NAME`, when there was one. */
  readonly nativeError: string | undefined;

  constructor(
    message: string,
    details: { reason: ConnectionFailureReason; hint: string; nativeError?: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DeviceConnectionError';
    this.reason = details.reason;
    this.hint = details.hint;
    this.nativeError = details.nativeError;
  }
}

/** The broker refused a publish or subscribe, or kept dropping the connection over it. */
export class OperationDeniedError extends Error {
  readonly operation: 'publish' | 'subscribe';
  /** Topic (publish) or topic filter (subscribe). */
  readonly topic: string;

  constructor(
    message: string,
    details: { operation: 'publish' | 'subscribe'; topic: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'OperationDeniedError';
    this.operation = details.operation;
    this.topic = details.topic;
  }
}

/** Too many publishes are waiting while the connection is down. */
export class OfflineQueueFullError extends Error {
  readonly limit: number;

  constructor(message: string, details: { limit: number }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OfflineQueueFullError';
    this.limit = details.limit;
  }
}

/** An operation was attempted on a connection that is not started or already stopped. */
export class ConnectionClosedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionClosedError';
  }
}

/**
 * The broker keeps refusing the certificate the credential pointer names, and
 * the pointer names no other: retrying in this process cannot help. A service
 * should exit and let its manager restart it with backoff (the device runner
 * exits with its own exit code for this).
 */
export class CredentialsRefusedError extends Error {
  /** Id of the refused certificate. */
  readonly certificateId: string;
  /** Consecutive refusals seen. */
  readonly refusals: number;

  constructor(
    message: string,
    details: { certificateId: string; refusals: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CredentialsRefusedError';
    this.certificateId = details.certificateId;
    this.refusals = details.refusals;
  }
}

/** A request of the fleet provisioning MQTT API that a device sends. */
export type ClaimOperation = 'CreateCertificateFromCsr' | 'RegisterThing';

/**
 * AWS IoT answered a fleet provisioning request on its `/rejected` topic:
 * `statusCode` 403 `AccessDenied` when the pre-provisioning hook or the
 * provisioning role refused the device (final), 400 for a bad request or
 * ownership token, 404 for an unknown template. A 429 reaches the caller only
 * once the retries within the allowed time are used up.
 */
export class ClaimRejectedError extends Error {
  readonly operation: ClaimOperation;
  readonly statusCode: number | undefined;
  readonly errorCode: string | undefined;
  /** AWS IoT's reason, as it sent it (never key material: it has none of ours). */
  readonly errorMessage: string | undefined;

  constructor(
    message: string,
    details: {
      operation: ClaimOperation;
      statusCode?: number | undefined;
      errorCode?: string | undefined;
      errorMessage?: string | undefined;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ClaimRejectedError';
    // AWS IoT's rejection, as it came.
    ({
      operation: this.operation,
      statusCode: this.statusCode,
      errorCode: this.errorCode,
      errorMessage: this.errorMessage,
    } = details);
  }
}

/**
 * No reply to a fleet provisioning request (or no SUBACK for its reply
 * topics) in time. For `RegisterThing` the registration may still have
 * happened: see {@link ClaimReplyLostError}.
 */
export class ClaimTimeoutError extends Error {
  readonly operation: ClaimOperation;
  readonly timeoutMs: number;

  constructor(
    message: string,
    details: { operation: ClaimOperation; timeoutMs: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ClaimTimeoutError';
    this.operation = details.operation;
    this.timeoutMs = details.timeoutMs;
  }
}

/**
 * The claim connection was interrupted while a request was out: AWS IoT
 * answers only the connection that asked, so its reply is gone. The request
 * may have been carried out all the same; for `RegisterThing` that means the
 * certificate may be ACTIVE and its ownership token spent, which connecting
 * with it as the thing tells (`certificateId` names it).
 */
export class ClaimReplyLostError extends Error {
  readonly operation: ClaimOperation;
  /** The device's new certificate, when the lost reply was RegisterThing's. */
  readonly certificateId: string | undefined;

  constructor(
    message: string,
    details: { operation: ClaimOperation; certificateId?: string | undefined },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ClaimReplyLostError';
    this.operation = details.operation;
    this.certificateId = details.certificateId;
  }
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isInsecureKeyFileError(error: unknown): error is InsecureKeyFileError {
  return hasName(error, 'InsecureKeyFileError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isCertificateKeyMismatchError(
  error: unknown,
): error is CertificateKeyMismatchError {
  return hasName(error, 'CertificateKeyMismatchError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isCredentialsError(error: unknown): error is CredentialsError {
  return hasName(error, 'CredentialsError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isDeviceConnectionError(error: unknown): error is DeviceConnectionError {
  return hasName(error, 'DeviceConnectionError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isOperationDeniedError(error: unknown): error is OperationDeniedError {
  return hasName(error, 'OperationDeniedError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isOfflineQueueFullError(error: unknown): error is OfflineQueueFullError {
  return hasName(error, 'OfflineQueueFullError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isConnectionClosedError(error: unknown): error is ConnectionClosedError {
  return hasName(error, 'ConnectionClosedError');
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isCredentialsRefusedError(error: unknown): error is CredentialsRefusedError {
  return hasName(error, 'CredentialsRefusedError');
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isClaimRejectedError(error: unknown): error is ClaimRejectedError {
  return hasName(error, 'ClaimRejectedError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isClaimTimeoutError(error: unknown): error is ClaimTimeoutError {
  return hasName(error, 'ClaimTimeoutError');
}
/** Type guard that works across package copies, where `instanceof` would not. */
export function isClaimReplyLostError(error: unknown): error is ClaimReplyLostError {
  return hasName(error, 'ClaimReplyLostError');
}

/**
 * True for errors caused by the operator's input or environment (wrong flag,
 * file, endpoint, certificate state, policy), which deserve a message and a fix
 * rather than a stack trace.
 */
export function isDeviceUserError(error: unknown): boolean {
  return (
    isInsecureKeyFileError(error) ||
    isCertificateKeyMismatchError(error) ||
    isCredentialsError(error) ||
    isDeviceConnectionError(error) ||
    isOperationDeniedError(error) ||
    isOfflineQueueFullError(error) ||
    isCredentialsRefusedError(error) ||
    isClaimRejectedError(error) ||
    isClaimTimeoutError(error) ||
    isClaimReplyLostError(error)
  );
}
