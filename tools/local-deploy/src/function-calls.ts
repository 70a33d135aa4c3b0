import { FunctionInvocationError } from './errors';
import { invokeFunction, type InvocationOutcome, type LocalFunction } from './lambda-invoker';
import type { StackEnvironment } from './resource-provider';

/** Lambda's asynchronous invocation: the first attempt and two retries. */
export const ASYNC_INVOCATION_ATTEMPTS = 3;

/** What invoking the stack's functions from a service (IoT, EventBridge) needs. */
export interface FunctionCallContext {
  readonly stack: StackEnvironment;
  /** The stack's functions by ARN. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** Extra environment for every invocation (tests inject faults here). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Invocations still running: the stack awaits them before an operation returns. */
  readonly background: Set<Promise<unknown>>;
}

/**
 * The environment of every invocation: the local cloud's endpoints and
 * credentials (what the function's execution role and VPC endpoints give it
 * on AWS), the region, then the test's extra environment.
 */
export function functionInvocationEnvironment(
  stack: StackEnvironment,
  functionEnvironment: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return {
    ...stack.cloudEnv,
    AWS_REGION: stack.region,
    AWS_DEFAULT_REGION: stack.region,
    ...functionEnvironment,
  };
}

function functionOf(context: FunctionCallContext, functionArn: string): LocalFunction {
  const fn = context.functions.get(functionArn);
  if (!fn) throw new FunctionInvocationError(`${functionArn} is not a deployed function`);
  return fn;
}

function invoke(
  context: FunctionCallContext,
  fn: LocalFunction,
  payload: unknown,
  signal?: AbortSignal,
): Promise<InvocationOutcome> {
  return invokeFunction(
    fn,
    payload,
    functionInvocationEnvironment(context.stack, context.functionEnvironment),
    (line) => context.stack.relay(`lambda ${fn.functionName}`, line),
    { signal },
  );
}

/**
 * A synchronous (`RequestResponse`) invocation, as AWS IoT makes of a
 * pre-provisioning hook: resolves with what the handler returned.
 *
 * @throws {FunctionInvocationError} for an unknown function, or when the
 *   function threw, timed out or was stopped by `signal`.
 */
export async function invokeForResult(
  context: FunctionCallContext,
  functionArn: string,
  payload: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  const fn = functionOf(context, functionArn);
  const outcome = await invoke(context, fn, payload, signal);
  if (outcome.timedOut)
    throw new FunctionInvocationError(`Task timed out after ${fn.timeoutSeconds} seconds`);
  if (signal?.aborted) throw new FunctionInvocationError(`${fn.functionName} was stopped`);
  if (outcome.exitCode !== 0 || !('result' in outcome))
    throw new FunctionInvocationError(`${fn.functionName} failed (exit ${outcome.exitCode})`);
  return outcome.result;
}

/**
 * An asynchronous (`Event`) invocation, as EventBridge makes of a rule's
 * Lambda target: Lambda queues the event and retries a failed attempt twice
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
 * Returns at once; the attempts run in the background, tracked so that the
 * stack waits for them.
 */
export function invokeAsynchronously(
  context: FunctionCallContext,
  functionArn: string,
  event: unknown,
): void {
  const fn = context.functions.get(functionArn);
  if (!fn) {
    context.stack.log(`event for ${functionArn} dropped: not a deployed function`);
    return;
  }
  const attempts = (async () => {
    for (let attempt = 1; attempt <= ASYNC_INVOCATION_ATTEMPTS; attempt++) {
      const outcome = await invoke(context, fn, event);
      if (outcome.exitCode === 0 && !outcome.timedOut) return;
      context.stack.log(
        `${fn.functionName} ${outcome.timedOut ? 'timed out' : `failed (exit ${outcome.exitCode})`} on attempt ${attempt} of ${ASYNC_INVOCATION_ATTEMPTS}`,
      );
    }
  })();
  context.background.add(attempts);
  void attempts.finally(() => context.background.delete(attempts));
}
