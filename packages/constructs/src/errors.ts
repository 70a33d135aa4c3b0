/**
 * Props given to a thingcert construct are invalid. Thrown while the construct
 * is being built, so `cdk synth` fails with the reason instead of a deployment
 * failing minutes later in CloudFormation.
 */
export class InvalidConstructPropsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidConstructPropsError';
  }
}

/**
 * A bundle directory the constructs deploy (the provisioner Lambda or the
 * device runner) does not exist: its package has not been built yet.
 */
export class MissingBundleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MissingBundleError';
  }
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isInvalidConstructPropsError(error: unknown): error is InvalidConstructPropsError {
  return error instanceof Error && error.name === 'InvalidConstructPropsError';
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isMissingBundleError(error: unknown): error is MissingBundleError {
  return error instanceof Error && error.name === 'MissingBundleError';
}
