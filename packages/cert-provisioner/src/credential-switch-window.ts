import {
  customResourceHandler,
  jsonConsoleLogger,
  type CustomResourceEvent,
  type HandlerResult,
  type LambdaHandler,
  type StructuredLogger,
} from '@thingcert/cfn-response';
import {
  CREDENTIAL_SWITCH_WINDOW_PROPERTY,
  CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
  MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS,
} from '@thingcert/contracts';
import { InvalidPropertyError } from './errors';
import { realSleep, type Sleep } from './provisioner-deps';

/** Options of {@link createCredentialSwitchWindowHandler}. */
export interface CredentialSwitchWindowHandlerOptions {
  /** @default a `setTimeout` based sleep */
  readonly sleep?: Sleep;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: StructuredLogger;
  /**
   * How long before the Lambda deadline the window closes at the latest, in
   * ms: the answer must reach CloudFormation before the deadline.
   * @default 10000
   */
  readonly deadlineMarginMs?: number;
}

/** Whether a raw event is for the credential switch window resource (the function serves both types). */
export function isCredentialSwitchWindowEvent(rawEvent: unknown): boolean {
  return (
    typeof rawEvent === 'object' &&
    rawEvent !== null &&
    (rawEvent as { ResourceType?: unknown }).ResourceType === CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE
  );
}

interface WindowProperties {
  readonly certificateId: string;
  readonly waitSeconds: number;
}

function parseWindowProperties(raw: Record<string, unknown>): WindowProperties {
  const certificateId = raw[CREDENTIAL_SWITCH_WINDOW_PROPERTY.certificateId];
  if (typeof certificateId !== 'string' || !/^[0-9a-f]{64}$/.test(certificateId)) {
    throw new InvalidPropertyError(
      CREDENTIAL_SWITCH_WINDOW_PROPERTY.certificateId,
      'must be a certificate id (64 hex digits)',
    );
  }
  const waitRaw = raw[CREDENTIAL_SWITCH_WINDOW_PROPERTY.waitSeconds];
  const waitSeconds = typeof waitRaw === 'number' ? waitRaw : Number(waitRaw);
  if (
    !Number.isInteger(waitSeconds) ||
    waitSeconds < 0 ||
    waitSeconds > MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS
  ) {
    throw new InvalidPropertyError(
      CREDENTIAL_SWITCH_WINDOW_PROPERTY.waitSeconds,
      `must be a whole number of seconds from 0 to ${MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS}`,
    );
  }
  return { certificateId, waitSeconds };
}

/**
 * The Lambda handler of `Custom::ThingcertCredentialSwitchWindow`
 * (`CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE`): on an Update that names
 * another certificate (a rotation, or its rollback) it waits `WaitSeconds`
 * before answering, so CloudFormation's cleanup, which detaches and deletes
 * the old certificate, starts only once the device had time to check its
 * pointer and move. Create (nothing is connected with the new certificate
 * yet) and Delete answer at once. The physical id is fixed per logical
 * resource, so an Update never replaces it. The wait always ends before the
 * Lambda deadline; it then answers SUCCESS all the same (a shorter window
 * only costs the device a reconnect).
 *
 * @example
 * ```ts
 * const window = createCredentialSwitchWindowHandler();
 * ```
 */
export function createCredentialSwitchWindowHandler(
  options: CredentialSwitchWindowHandlerOptions = {},
): LambdaHandler {
  const sleep = options.sleep ?? realSleep;
  const logger = options.logger ?? jsonConsoleLogger();
  const marginMs = options.deadlineMarginMs ?? 10_000;
  return customResourceHandler(
    async (event: CustomResourceEvent, context): Promise<HandlerResult> => {
      const physicalResourceId = `switch-window-${event.LogicalResourceId}`;
      if (event.RequestType === 'Delete') return { physicalResourceId };
      const properties = parseWindowProperties(event.ResourceProperties);
      if (event.RequestType === 'Create') return { physicalResourceId };
      const before = parseWindowProperties(event.OldResourceProperties);
      if (before.certificateId === properties.certificateId) return { physicalResourceId };
      const waitMs = Math.max(
        0,
        Math.min(
          properties.waitSeconds * 1000,
          (context.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) - marginMs,
        ),
      );
      logger.info('Credential switch window open', {
        certificateId: properties.certificateId,
        waitMs,
      });
      await sleep(waitMs);
      return { physicalResourceId };
    },
    { logger },
  );
}
