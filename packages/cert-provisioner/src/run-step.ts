import type { StructuredLogger } from '@thingcert/cfn-response';
import { DeadlineError } from './errors';

/** What every step shares: the logger and the signal that stops work near the deadline. */
export interface StepContext {
  readonly logger: StructuredLogger;
  readonly signal: AbortSignal | undefined;
  readonly fields: Record<string, unknown>;
}

/** Rejects with a {@link DeadlineError} once `signal` aborts; never resolves otherwise. */
function abortPromise(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DeadlineError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Nobody may await this promise when the step wins the race.
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** Options of {@link runStep}. */
export interface StepOptions {
  /**
   * False for work whose answer must never be dropped (it creates something
   * only the answer names): the step still refuses to start once the signal
   * has aborted, but once started it runs to completion, and the next step's
   * abort check stops the work instead.
   * @default true
   */
  readonly abortable?: boolean;
  /**
   * True for bookkeeping that must happen even after the abort (it is what
   * lets a later request clean up): the step starts and runs to completion
   * regardless of the signal. Implies not `abortable`.
   * @default false
   */
  readonly evenAfterAbort?: boolean;
}

/**
 * Runs one named step: logs start and end with the step name, stops at once
 * when the signal aborts (even if an SDK call ignores it) unless the step is
 * not `abortable`, and hands any error to `wrap` so it leaves as the caller's
 * named error.
 */
export async function runStep<S extends string, T>(
  context: StepContext,
  step: S,
  work: () => Promise<T>,
  wrap: (step: S, error: unknown) => Error,
  options: StepOptions = {},
): Promise<T> {
  const started = Date.now();
  try {
    if (context.signal?.aborted && !options.evenAfterAbort) throw new DeadlineError();
    let result: T;
    if (context.signal && options.abortable !== false && !options.evenAfterAbort) {
      const abort = abortPromise(context.signal);
      try {
        result = await Promise.race([work(), abort.promise]);
      } finally {
        abort.dispose();
      }
    } else {
      result = await work();
    }
    context.logger.info('Step done', { ...context.fields, step, ms: Date.now() - started });
    return result;
  } catch (error) {
    const wrapped = wrap(step, error);
    context.logger.warn('Step failed', { ...context.fields, step, error: wrapped.message });
    throw wrapped;
  }
}
