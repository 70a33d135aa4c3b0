/**
 * The event Lambda received is not a CloudFormation custom-resource request we
 * can answer: no usable `ResponseURL`, so nobody can be told. Thrown so the
 * invocation fails visibly instead of returning silently.
 */
export class MalformedEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedEventError';
  }
}

/** The response could not be delivered to the pre-signed `ResponseURL`. */
export class ResponseDeliveryError extends Error {
  /** HTTP status of the last attempt, when the server answered at all. */
  readonly statusCode: number | undefined;
  /** How many PUT attempts were made. */
  readonly attempts: number;

  constructor(
    message: string,
    details: { statusCode?: number; attempts: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ResponseDeliveryError';
    this.statusCode = details.statusCode;
    this.attempts = details.attempts;
  }
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isMalformedEventError(error: unknown): error is MalformedEventError {
  return error instanceof Error && error.name === 'MalformedEventError';
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isResponseDeliveryError(error: unknown): error is ResponseDeliveryError {
  return error instanceof Error && error.name === 'ResponseDeliveryError';
}
