import { randomUUID } from 'node:crypto';
import { ResourceStepError } from './errors';
import { ASYNC_INVOCATION_ATTEMPTS, functionInvocationEnvironment } from './function-calls';
import { invokeFunction, type InvocationOutcome, type LocalFunction } from './lambda-invoker';
import { runStep, type DeployedResource, type StackEnvironment } from './resource-provider';
import type { CustomResourceAnswer, ResponseEndpoint } from './response-endpoint';

/** CloudFormation's wait for an answer when the template sets no `ServiceTimeout`, and its cap. */
const MAX_SERVICE_TIMEOUT_SECONDS = 3600;

/**
 * Deliver each request a second time, as Lambda's at-least-once asynchronous
 * invocation may (CLOUDFORMATION-ORDER.md 8.1): `sequential` once the first
 * invocation has ended, `concurrent` alongside it. The first answer counts;
 * later ones are recorded as duplicates by the response endpoint.
 */
export type DuplicateDelivery = 'none' | 'sequential' | 'concurrent';

/** The request types of the custom-resource protocol. */
export type CustomResourceRequestType = 'Create' | 'Update' | 'Delete';

/** One request to a Lambda-backed custom resource. */
export interface CustomResourceRequest {
  readonly requestType: CustomResourceRequestType;
  readonly logicalId: string;
  readonly resourceType: string;
  /** Resolved properties, `ServiceToken` and `ServiceTimeout` included. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The resource as deployed (Update, Delete): its physical id and, for Update, old properties. */
  readonly previous?: DeployedResource;
}

/** What a custom-resource call needs from the stack. */
export interface CustomResourceCallDependencies {
  readonly stack: StackEnvironment;
  /** The stack's functions by ARN: what a `ServiceToken` names. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** Where the function's answer arrives (CloudFormation's side of the protocol). */
  readonly endpoint: ResponseEndpoint;
  /** Extra environment for every invocation (tests inject faults here). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** @default 'none' */
  readonly duplicateDelivery?: DuplicateDelivery;
  /**
   * Invocations still running, also after CloudFormation took its answer (a
   * function finishing, a duplicate delivery): the stack awaits them at the
   * end of each operation, so that no function process outlives it.
   */
  readonly background: Set<Promise<unknown>>;
}

/**
 * Sends one request to a Lambda-backed custom resource as CloudFormation
 * does: builds the event, invokes the bundled function (retried as Lambda
 * retries an asynchronous invocation), and waits for the answer at the
 * response URL, or the `ServiceTimeout`.
 *
 * @returns the SUCCESS answer.
 * @throws {ResourceStepError} (step = the request type) on a FAILED answer,
 *   carrying the physical id it answered; on no answer; on an unknown `ServiceToken`.
 */
export async function callCustomResource(
  request: CustomResourceRequest,
  deps: CustomResourceCallDependencies,
): Promise<CustomResourceAnswer> {
  const { requestType, logicalId, resourceType, properties } = request;
  const { stack } = deps;
  const serviceToken = String(properties.ServiceToken);
  const fn = deps.functions.get(serviceToken);
  if (!fn)
    throw new ResourceStepError(
      logicalId,
      requestType,
      `ServiceToken ${serviceToken} is not a deployed function`,
    );
  const serviceTimeoutSeconds = Math.min(
    MAX_SERVICE_TIMEOUT_SECONDS,
    Number(properties.ServiceTimeout ?? MAX_SERVICE_TIMEOUT_SECONDS),
  );
  const { url, answer } = deps.endpoint.expectAnswer();
  const event = customResourceEvent(request, url, stack.stackId);
  stack.log(`${requestType} ${logicalId} (${resourceType}) → ${fn.functionName}`);
  const deliveries = deliver(fn, event, answer, deps);
  inBackground(deliveries, deps);
  const unanswered = deliveries.then(async () => {
    // Give a response still in flight a moment to land before giving up.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    throw new Error(
      `the function finished without answering CloudFormation; on AWS the stack would wait the ServiceTimeout of ${serviceTimeoutSeconds} s`,
    );
  });
  unanswered.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`no response within the ServiceTimeout of ${serviceTimeoutSeconds} s`)),
      serviceTimeoutSeconds * 1000,
    );
  });
  try {
    const result = await runStep(logicalId, requestType, () =>
      Promise.race([answer, timeout, unanswered]),
    );
    if (result.Status === 'FAILED') {
      throw new ResourceStepError(
        logicalId,
        requestType,
        result.Reason ?? 'FAILED without a reason',
        { physicalId: result.PhysicalResourceId },
      );
    }
    stack.log(`${requestType} ${logicalId} SUCCESS (physical id ${result.PhysicalResourceId})`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** The event CloudFormation sends: every scalar property a string, `ServiceTimeout` left out. */
function customResourceEvent(
  request: CustomResourceRequest,
  responseUrl: string,
  stackId: string,
): Record<string, unknown> {
  const { requestType, logicalId, resourceType, properties, previous } = request;
  return {
    RequestType: requestType,
    ServiceToken: String(properties.ServiceToken),
    ResponseURL: responseUrl,
    StackId: stackId,
    RequestId: randomUUID(),
    ResourceType: resourceType,
    LogicalResourceId: logicalId,
    ResourceProperties: stringify(omitTimeout(properties)),
    ...(previous ? { PhysicalResourceId: previous.physicalId } : {}),
    ...(requestType === 'Update' && previous
      ? { OldResourceProperties: stringify(omitTimeout(previous.properties)) }
      : {}),
  };
}

/**
 * Lambda runs CloudFormation's asynchronous invocation and retries it twice
 * when the function fails; CloudFormation itself only ever waits for the
 * answer (or the ServiceTimeout). Once CloudFormation has its answer, a failed
 * invocation is not retried. With {@link DuplicateDelivery}, the same event
 * (same RequestId and ResponseURL) is delivered once more. Resolves when every
 * delivery has ended.
 */
async function deliver(
  fn: LocalFunction,
  event: Record<string, unknown>,
  answer: Promise<CustomResourceAnswer>,
  deps: CustomResourceCallDependencies,
): Promise<void> {
  const { stack } = deps;
  const invoke = (): Promise<InvocationOutcome> =>
    invokeFunction(
      fn,
      event,
      functionInvocationEnvironment(deps.stack, deps.functionEnvironment),
      (line) => stack.relay(`lambda ${fn.functionName}`, line),
    );
  const concurrent = deps.duplicateDelivery === 'concurrent' ? invoke() : undefined;
  let answered = false;
  void answer.then(() => (answered = true));
  for (let attempt = 1; attempt <= ASYNC_INVOCATION_ATTEMPTS && !answered; attempt++) {
    const outcome = await invoke();
    if (outcome.exitCode === 0 && !outcome.timedOut) break;
    stack.log(
      `${fn.functionName} ${outcome.timedOut ? 'timed out' : `failed (exit ${outcome.exitCode})`} on attempt ${attempt} of ${ASYNC_INVOCATION_ATTEMPTS}`,
    );
  }
  if (deps.duplicateDelivery === 'sequential') await invoke();
  await concurrent;
}

/** Tracks deliveries until their processes have ended: the stack awaits them before an operation returns. */
function inBackground(invocation: Promise<unknown>, deps: CustomResourceCallDependencies): void {
  deps.background.add(invocation);
  void invocation.finally(() => deps.background.delete(invocation));
}

function omitTimeout(properties: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { ServiceTimeout: _timeout, ...rest } = properties;
  return rest;
}

/** CloudFormation delivers every scalar property of a custom resource as a string. */
function stringify(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringify);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringify(item)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}
