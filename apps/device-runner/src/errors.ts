/** Bad command-line input, environment variable or config file: print usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The run finished but not every message came back (a user-visible failure, exit 1). */
export class IncompleteRunError extends Error {
  readonly received: number;
  readonly expected: number;

  constructor(message: string, details: { received: number; expected: number }) {
    super(message);
    this.name = 'IncompleteRunError';
    this.received = details.received;
    this.expected = details.expected;
  }
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof Error && error.name === 'UsageError';
}

/** Type guard that works across package copies, where `instanceof` would not. */
export function isIncompleteRunError(error: unknown): error is IncompleteRunError {
  return error instanceof Error && error.name === 'IncompleteRunError';
}
