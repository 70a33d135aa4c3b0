// What the deployer (`lambda-invoker.ts`) and its Lambda runtime process
// (`lambda-runtime.ts`) exchange: both import it, so neither can drift.

/** The pipe the runtime writes each invocation's outcome to, one JSON line each. */
export const RESULT_FD = 3;

/** The first line on the runtime's stdin: the function its environment runs. */
export interface FunctionSetup {
  readonly assetDir: string;
  readonly handler: string;
  readonly functionName: string;
}

/** Every later line on stdin: one invocation. */
export interface InvocationRequest {
  readonly requestId: string;
  readonly event: unknown;
  readonly timeoutMs: number;
}

/** One line on {@link RESULT_FD}: how an invocation ended; `result` only when `ok`. */
export interface InvocationReport {
  readonly requestId: string;
  readonly ok: boolean;
  readonly result?: unknown;
}

/**
 * The runtime prints this, then the request id, as a line of its own on
 * stdout and on stderr before it reports an invocation: three pipes deliver
 * in no common order, and the deployer takes an outcome only once both
 * fences are in, so every line the invocation printed has been relayed first.
 */
export const END_OF_INVOCATION = '\u0000thingcert-lambda-runtime:end ';

/** The fence line for `requestId` (see {@link END_OF_INVOCATION}). */
export function endOfInvocationLine(requestId: string): string {
  return `${END_OF_INVOCATION}${requestId}`;
}
