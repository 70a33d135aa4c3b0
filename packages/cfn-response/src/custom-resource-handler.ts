import {
  parseCustomResourceEvent,
  responseAddressOf,
  type CustomResourceEvent,
  type DeleteEvent,
  type ResourceProperties,
  type ResponseAddress,
} from './events';
import { isMalformedEventError } from './errors';
import { jsonConsoleLogger, type StructuredLogger } from './logger';
import {
  createFailedMarker,
  defaultPhysicalResourceId,
  fitReason,
  isCreateFailedMarker,
  MAX_PHYSICAL_ID_BYTES,
  MAX_RESPONSE_BYTES,
  reasonFromError,
  responseBytes,
  type CustomResourceResponse,
} from './response';
import { putResponse, type RetryOptions } from './transport';

/** The part of the Lambda context the wrapper uses. */
export interface LambdaContextLike {
  /** Milliseconds until Lambda stops the invocation. */
  getRemainingTimeInMillis?(): number;
  readonly awsRequestId?: string;
}

/** What a handler returns on success. */
export interface HandlerResult {
  /**
   * The resource's physical id. On Create, defaults to a deterministic id
   * derived from the request; on Update, a different id than the incoming one
   * means replacement; on Delete it is ignored (CloudFormation forbids a change).
   */
  readonly physicalResourceId?: string;
  /** Values for `Fn::GetAtt`. Visible in stack events unless `noEcho` is set. */
  readonly data?: Record<string, unknown>;
  /**
   * Masks `data` in CloudFormation output and keeps it out of our logs.
   * @default false
   */
  readonly noEcho?: boolean;
}

/** Your resource logic: one typed event in, the result out; throw to fail. */
export type CustomResourceHandler<P extends ResourceProperties = ResourceProperties> = (
  event: CustomResourceEvent<P>,
  context: LambdaContextLike,
) => Promise<HandlerResult | void>;

/** The Lambda entry point the wrapper produces. */
export type LambdaHandler = (event: unknown, context?: LambdaContextLike) => Promise<void>;

/** Options for {@link customResourceHandler}. */
export interface CustomResourceHandlerOptions {
  /**
   * How long before the Lambda deadline the guard answers FAILED if the
   * handler has not finished, in milliseconds. Leaves time for the PUT.
   * @default 5000
   */
  readonly timeoutMarginMs?: number;
  /**
   * Time budget used when the context has no `getRemainingTimeInMillis`
   * (local runs), in milliseconds.
   * @default 900000 (Lambda's maximum)
   */
  readonly fallbackTimeoutMs?: number;
  /** Retry policy for the response PUT. */
  readonly retry?: RetryOptions;
  /**
   * Structured logger.
   * @default JSON lines on stdout/stderr
   */
  readonly logger?: StructuredLogger;
  /**
   * Called for the Delete CloudFormation sends after a failed Create (instead
   * of the handler), to remove bookkeeping the failed attempt may have left,
   * such as an idempotency marker. Its errors are logged; the Delete is
   * acknowledged either way, since nothing of the resource exists.
   * @default - nothing to clean up
   */
  readonly onFailedCreateDelete?: (event: DeleteEvent<ResourceProperties>) => Promise<void>;
}

type Outcome =
  | { kind: 'result'; result: HandlerResult | void }
  | { kind: 'error'; error: unknown }
  | { kind: 'deadline'; budgetMs: number };

function logFieldsOf(address: ResponseAddress): Record<string, unknown> {
  // Deliberately no ResponseURL: it is a bearer credential for the answer.
  return {
    requestType: address.RequestType,
    stackId: address.StackId,
    requestId: address.RequestId,
    logicalResourceId: address.LogicalResourceId,
  };
}

/**
 * Wraps an async custom-resource handler into a Lambda handler that answers
 * CloudFormation exactly once, always:
 * - thrown errors become FAILED with a one-line reason (no stack, no PEM);
 * - a guard answers FAILED shortly before the Lambda deadline if the handler
 *   hangs, and a result arriving later is not sent;
 * - the body is checked against CloudFormation's 4096-byte limit;
 * - the PUT is retried with jittered backoff on network errors and 5xx;
 * - a Create that fails answers a marker id, and the Delete CloudFormation
 *   then sends for it is acknowledged without calling the handler.
 *
 * @example
 * ```ts
 * export const handler = customResourceHandler(async (event) => {
 *   switch (event.RequestType) {
 *     case 'Create': return { physicalResourceId: await create(event.ResourceProperties) };
 *     case 'Update': return { physicalResourceId: event.PhysicalResourceId };
 *     case 'Delete': await remove(event.PhysicalResourceId); return;
 *   }
 * });
 * ```
 */
export function customResourceHandler<P extends ResourceProperties = ResourceProperties>(
  handler: CustomResourceHandler<P>,
  options: CustomResourceHandlerOptions = {},
): LambdaHandler {
  const settings: Settings = {
    logger: options.logger ?? jsonConsoleLogger(),
    marginMs: options.timeoutMarginMs ?? 5000,
    fallbackMs: options.fallbackTimeoutMs ?? 900_000,
    retry: options.retry,
    onFailedCreateDelete: options.onFailedCreateDelete,
  };
  const { logger } = settings;

  return async function handleEvent(rawEvent: unknown, context: LambdaContextLike = {}) {
    const event = await parseOrAnswerFailed<P>(rawEvent, settings);
    if (event === undefined) return;
    const incomingId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
    logger.info('Request received', {
      ...logFieldsOf({ ...event, RequestType: event.RequestType }),
      physicalResourceId: incomingId,
    });

    if (event.RequestType === 'Delete' && isCreateFailedMarker(event.PhysicalResourceId)) {
      await acknowledgeFailedCreateDelete(event, context, settings);
      return;
    }

    const outcome = await runGuarded(handler, event, context, settings);
    const failedId = incomingId ?? createFailedMarker(event.RequestId);
    const base = baseOf(event);
    let response: CustomResourceResponse;
    let noEcho = false;
    switch (outcome.kind) {
      case 'deadline':
        response = {
          Status: 'FAILED',
          Reason: `Handler did not finish within ${Math.round(outcome.budgetMs / 1000)} s, before the Lambda deadline`,
          PhysicalResourceId: failedId,
          ...base,
        };
        logger.error('Deadline guard fired', { ...base, budgetMs: outcome.budgetMs });
        break;
      case 'error':
        response = {
          Status: 'FAILED',
          Reason: reasonFromError(outcome.error),
          PhysicalResourceId: failedId,
          ...base,
        };
        logger.error('Handler failed', { ...base, reason: response.Reason });
        break;
      case 'result':
        ({ response, noEcho } = successResponse(event, outcome.result ?? {}, logger));
        break;
    }
    await send(response, event.ResponseURL, noEcho, settings);
  };
}

/** The options of one {@link customResourceHandler}, defaults applied. */
interface Settings {
  readonly logger: StructuredLogger;
  readonly marginMs: number;
  readonly fallbackMs: number;
  readonly retry: RetryOptions | undefined;
  readonly onFailedCreateDelete: CustomResourceHandlerOptions['onFailedCreateDelete'];
}

/** The fields every response to `event` repeats. */
function baseOf(event: CustomResourceEvent) {
  return {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
}

/** The time the handler may take: what Lambda has left, minus the margin for the answer. */
function budgetOf(context: LambdaContextLike, settings: Settings): number {
  return Math.max(
    0,
    (context.getRemainingTimeInMillis?.() ?? settings.fallbackMs) - settings.marginMs,
  );
}

/**
 * The typed event, or `undefined` after answering FAILED to a malformed one
 * that still names a `ResponseURL`. Throws {@link MalformedEventError} when
 * nobody can be answered.
 */
async function parseOrAnswerFailed<P extends ResourceProperties>(
  rawEvent: unknown,
  settings: Settings,
): Promise<CustomResourceEvent<P> | undefined> {
  const { logger } = settings;
  const address = responseAddressOf(rawEvent);
  try {
    return parseCustomResourceEvent<P>(rawEvent);
  } catch (error) {
    if (!isMalformedEventError(error)) throw error;
    if (!address) {
      logger.error('Malformed event with no ResponseURL: cannot answer', {
        reason: error.message,
      });
      throw error;
    }
    logger.error('Malformed event', { ...logFieldsOf(address), reason: error.message });
    await send(
      {
        Status: 'FAILED',
        Reason: error.message,
        PhysicalResourceId:
          address.PhysicalResourceId ?? createFailedMarker(address.RequestId || 'unknown'),
        StackId: address.StackId,
        RequestId: address.RequestId,
        LogicalResourceId: address.LogicalResourceId,
      },
      address.ResponseURL,
      false,
      settings,
    );
    return undefined;
  }
}

/**
 * The Delete CloudFormation sends after a failed Create: nothing was created,
 * so it is acknowledged without the handler, after the optional cleanup.
 */
async function acknowledgeFailedCreateDelete(
  event: DeleteEvent<ResourceProperties>,
  context: LambdaContextLike,
  settings: Settings,
): Promise<void> {
  const { logger, onFailedCreateDelete } = settings;
  const base = baseOf(event);
  logger.info('Delete of a failed Create: nothing was created, acknowledging');
  if (onFailedCreateDelete) {
    // Bounded like the handler: cleanup must never cost CloudFormation its answer.
    const budgetMs = budgetOf(context, settings);
    let cleanupTimer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        onFailedCreateDelete(event),
        new Promise<never>((_resolve, reject) => {
          cleanupTimer = setTimeout(
            () => reject(new Error(`cleanup did not finish within ${budgetMs} ms`)),
            budgetMs,
          );
        }),
      ]);
    } catch (error) {
      logger.warn('Cleanup after a failed Create did not complete', {
        ...base,
        reason: reasonFromError(error),
      });
    } finally {
      clearTimeout(cleanupTimer);
    }
  }
  await send(
    { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId, ...base },
    event.ResponseURL,
    false,
    settings,
  );
}

/**
 * Runs the handler against the deadline guard: its result or error, or
 * `deadline` when the budget ran out first. A result arriving after that is
 * discarded (and logged), never sent.
 */
async function runGuarded<P extends ResourceProperties>(
  handler: CustomResourceHandler<P>,
  event: CustomResourceEvent<P>,
  context: LambdaContextLike,
  settings: Settings,
): Promise<Outcome> {
  const budgetMs = budgetOf(context, settings);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'deadline', budgetMs }), budgetMs);
  });
  const work = (async (): Promise<Outcome> => {
    try {
      return { kind: 'result', result: await handler(event, context) };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  const outcome = await Promise.race([work, deadline]);
  clearTimeout(timer);
  if (outcome.kind === 'deadline') {
    // The handler may still finish later; it no longer gets a say.
    void work.then((late) => {
      if (late.kind !== 'deadline')
        settings.logger.warn(
          'Handler finished after the deadline answer; result discarded',
          baseOf(event),
        );
    });
  }
  return outcome;
}

/**
 * PUTs the response, first making it fit CloudFormation's size limit, and
 * logs the outcome without the URL or data values.
 */
async function send(
  response: CustomResourceResponse,
  responseUrl: string,
  noEcho: boolean,
  settings: Settings,
): Promise<void> {
  const { logger } = settings;
  let body = fitReason(response);
  if (responseBytes(body) > MAX_RESPONSE_BYTES) {
    // Only Data can still be too large: answer FAILED but keep the id, so
    // the Delete CloudFormation sends next cleans up what was created.
    const size = responseBytes(body);
    body = fitReason({
      Status: 'FAILED',
      Reason: `Response body would be ${size} bytes; CloudFormation accepts at most ${MAX_RESPONSE_BYTES}: return less data`,
      PhysicalResourceId: body.PhysicalResourceId,
      StackId: body.StackId,
      RequestId: body.RequestId,
      LogicalResourceId: body.LogicalResourceId,
    });
  }
  const fields = {
    stackId: body.StackId,
    requestId: body.RequestId,
    logicalResourceId: body.LogicalResourceId,
    physicalResourceId: body.PhysicalResourceId,
    status: body.Status,
    ...(body.Reason !== undefined ? { reason: body.Reason } : {}),
    ...(body.Data && !noEcho ? { dataKeys: Object.keys(body.Data) } : {}),
  };
  try {
    const delivery = await putResponse(responseUrl, JSON.stringify(body), settings.retry);
    logger.info('Response sent', {
      ...fields,
      attempts: delivery.attempts,
      statusCode: delivery.statusCode,
    });
  } catch (error) {
    logger.error('Response could not be delivered', { ...fields, error: reasonFromError(error) });
    throw error;
  }
}

function successResponse(
  event: CustomResourceEvent,
  result: HandlerResult,
  logger: StructuredLogger,
): { response: CustomResourceResponse; noEcho: boolean } {
  const base = baseOf(event);
  let physicalResourceId: string;
  switch (event.RequestType) {
    case 'Create':
      physicalResourceId = result.physicalResourceId ?? defaultPhysicalResourceId(event);
      break;
    case 'Update':
      physicalResourceId = result.physicalResourceId ?? event.PhysicalResourceId;
      break;
    case 'Delete':
      if (
        result.physicalResourceId !== undefined &&
        result.physicalResourceId !== event.PhysicalResourceId
      ) {
        logger.warn(
          'Handler returned a different physical id on Delete; keeping the incoming one',
          base,
        );
      }
      physicalResourceId = event.PhysicalResourceId;
      break;
  }
  const invalid = physicalIdProblem(physicalResourceId);
  if (invalid) {
    return {
      response: {
        Status: 'FAILED',
        Reason: invalid,
        PhysicalResourceId:
          event.RequestType === 'Create'
            ? createFailedMarker(event.RequestId)
            : event.PhysicalResourceId,
        ...base,
      },
      noEcho: false,
    };
  }
  const noEcho = result.noEcho === true;
  return {
    response: {
      Status: 'SUCCESS',
      PhysicalResourceId: physicalResourceId,
      ...base,
      ...(noEcho ? { NoEcho: true } : {}),
      ...(result.data !== undefined ? { Data: result.data } : {}),
    },
    noEcho,
  };
}

function physicalIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0)
    return 'Handler returned an empty physical resource id';
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_PHYSICAL_ID_BYTES) {
    return `Handler returned a physical resource id of ${bytes} bytes; the limit is ${MAX_PHYSICAL_ID_BYTES}`;
  }
  return undefined;
}
