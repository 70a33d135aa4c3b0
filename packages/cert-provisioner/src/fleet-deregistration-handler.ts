import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { IoTClient } from '@aws-sdk/client-iot';
import {
  customResourceHandler,
  jsonConsoleLogger,
  type CustomResourceEvent,
  type LambdaContextLike,
  type RetryOptions,
  type StructuredLogger,
} from '@thingcert/cfn-response';
import { FLEET_CLEANUP_PROPERTY, type FleetCleanupProperties } from '@thingcert/contracts';
import { emptyFleetGroup } from './empty-fleet-group';
import { InvalidPropertyError, UnrecognizedFleetEventError } from './errors';
import {
  deregisterTerminatingInstance,
  isTerminationEvent,
  parseTerminationEvent,
} from './instance-termination';
import type { Sleep } from './provisioner-deps';

/** Clients and helpers of {@link createFleetDeregistrationHandler}. */
export interface FleetDeregistrationHandlerDeps {
  /** IoT control-plane client. */
  readonly iot: IoTClient;
  /** Auto Scaling client (CompleteLifecycleAction). */
  readonly autoScaling: AutoScalingClient;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: StructuredLogger;
  /** @default a `setTimeout` based sleep */
  readonly sleep?: Sleep;
}

/** Options of {@link createFleetDeregistrationHandler}. */
export interface FleetDeregistrationHandlerOptions {
  /** The fleet's thing name prefix (for termination events; the custom resource carries its own). */
  readonly thingNamePrefix: string;
  /** Retry policy of the custom resource's response PUT. */
  readonly retry?: RetryOptions;
  /**
   * How long before the Lambda deadline the custom resource answers FAILED if
   * the group is not empty yet, in ms.
   * @default 5000
   */
  readonly timeoutMarginMs?: number;
}

/** The deregistration function's Lambda handler. */
export type FleetDeregistrationHandler = (
  event: unknown,
  context?: LambdaContextLike,
) => Promise<void>;

/**
 * The Lambda handler of a fleet's deregistration function, which serves two
 * callers:
 * - EventBridge, with an "EC2 Instance-terminate Lifecycle Action" event:
 *   {@link deregisterTerminatingInstance} (scale-in); errors are thrown, so
 *   Lambda's asynchronous retries try again;
 * - CloudFormation, as the `Custom::ThingcertFleetCleanup` resource
 *   (`FLEET_CLEANUP_RESOURCE_TYPE`), answered exactly once through
 *   `@thingcert/cfn-response`: Delete runs {@link emptyFleetGroup}; Create and
 *   Update only answer (physical id: the thing group's name).
 *
 * @throws UnrecognizedFleetEventError for any other event
 * @example
 * ```ts
 * export const handler = createFleetDeregistrationHandler(createFleetAwsClients(), {
 *   thingNamePrefix: fleetSettingsFromEnvironment(process.env).thingNamePrefix,
 * });
 * ```
 */
export function createFleetDeregistrationHandler(
  deps: FleetDeregistrationHandlerDeps,
  options: FleetDeregistrationHandlerOptions,
): FleetDeregistrationHandler {
  const logger = deps.logger ?? jsonConsoleLogger();
  const margin = options.timeoutMarginMs ?? 5000;
  const cleanup = customResourceHandler(
    async (event: CustomResourceEvent, context) => {
      const fleet = cleanupPropertiesOf(event.ResourceProperties);
      if (event.RequestType !== 'Delete') return { physicalResourceId: fleet.ThingGroupName };
      const controller = new AbortController();
      const budget = (context.getRemainingTimeInMillis?.() ?? 900_000) - 2 * margin;
      const timer = setTimeout(() => controller.abort(), Math.max(budget, 0));
      try {
        const result = await emptyFleetGroup(
          { thingGroupName: fleet.ThingGroupName, thingNamePrefix: fleet.ThingNamePrefix },
          { ...deps, logger, signal: controller.signal },
        );
        logger.info('Fleet thing group emptied', {
          thingGroupName: fleet.ThingGroupName,
          deregistered: result.deregistered.length,
          skipped: result.skipped.length,
        });
      } finally {
        clearTimeout(timer);
      }
      return undefined;
    },
    { logger, retry: options.retry, timeoutMarginMs: options.timeoutMarginMs },
  );

  return async (event, context) => {
    if (isCustomResourceRequest(event)) {
      await cleanup(event, context);
      return;
    }
    if (isTerminationEvent(event)) {
      const action = parseTerminationEvent(event);
      await deregisterTerminatingInstance(action, options.thingNamePrefix, { ...deps, logger });
      return;
    }
    throw new UnrecognizedFleetEventError(
      'Expected a CloudFormation custom-resource request or an Auto Scaling termination lifecycle event',
    );
  };
}

function isCustomResourceRequest(event: unknown): boolean {
  return (
    typeof event === 'object' && event !== null && 'RequestType' in event && 'ResponseURL' in event
  );
}

function cleanupPropertiesOf(raw: Record<string, unknown>): FleetCleanupProperties {
  const text = (name: keyof FleetCleanupProperties): string => {
    const value = raw[name];
    if (typeof value !== 'string' || value === '') {
      throw new InvalidPropertyError(name, 'must be a non-empty string');
    }
    return value;
  };
  return {
    ThingGroupName: text(FLEET_CLEANUP_PROPERTY.thingGroupName),
    ThingNamePrefix: text(FLEET_CLEANUP_PROPERTY.thingNamePrefix),
  };
}
