/** The template uses something the local deployer cannot resolve or honour. */
export class TemplateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

/** Options of a {@link ResourceStepError}. */
export interface ResourceStepErrorOptions extends ErrorOptions {
  /**
   * The physical id the resource answered although the step failed (a custom
   * resource's FAILED answer). CloudFormation records the id of a failed
   * Create and sends it a Delete on rollback, so the deployer needs it.
   * @default undefined (the step failed without naming a resource)
   */
  readonly physicalId?: string;
}

/** A resource step failed; names the resource, the step and the reason. */
export class ResourceStepError extends Error {
  readonly logicalId: string;
  readonly step: string;
  /** See {@link ResourceStepErrorOptions.physicalId}. */
  readonly physicalId: string | undefined;

  constructor(logicalId: string, step: string, reason: string, options?: ResourceStepErrorOptions) {
    super(`${logicalId}: ${step} failed: ${reason}`, options);
    this.name = 'ResourceStepError';
    this.logicalId = logicalId;
    this.step = step;
    this.physicalId = options?.physicalId;
  }
}

/** Teardown finished but left stack resources behind in the local cloud. */
export class LeftoverResourcesError extends Error {
  readonly leftovers: readonly string[];

  constructor(leftovers: readonly string[]) {
    super(`teardown left ${leftovers.length} resource(s) behind: ${leftovers.join('; ')}`);
    this.name = 'LeftoverResourcesError';
    this.leftovers = leftovers;
  }
}

/** Type guard for {@link ResourceStepError}, by name so it works across copies. */
export function isResourceStepError(error: unknown): error is ResourceStepError {
  return error instanceof Error && error.name === 'ResourceStepError';
}

/**
 * The stack's status does not allow the operation (CloudFormation answers
 * such a call with a ValidationError and leaves the stack as it is): e.g. an
 * update of a stack in `UPDATE_ROLLBACK_FAILED` or `ROLLBACK_COMPLETE`.
 */
export class StackStateError extends Error {
  /** The status the stack is in; `undefined` before it was created. */
  readonly status: string | undefined;

  constructor(operation: string, status: string | undefined, options?: ErrorOptions) {
    super(`cannot ${operation} a stack in state ${status ?? 'none (not created)'}`, options);
    this.name = 'StackStateError';
    this.status = status;
  }
}

/** A Lambda function invoked by a service (not by CloudFormation) failed or could not run. */
export class FunctionInvocationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FunctionInvocationError';
  }
}

/** An Auto Scaling API call AWS answers with `ValidationError` (HTTP 400). */
export class AutoScalingValidationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AutoScalingValidationError';
  }
}
