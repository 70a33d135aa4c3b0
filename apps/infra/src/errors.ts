/**
 * A context value of the infra app (`-c key=value` or `cdk.json`) is invalid.
 * A user error: the message names the key and what it accepts.
 */
export class InvalidAppConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidAppConfigError';
  }
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isInvalidAppConfigError(error: unknown): error is InvalidAppConfigError {
  return error instanceof Error && error.name === 'InvalidAppConfigError';
}
