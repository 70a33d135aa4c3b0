import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { IoTClient } from '@aws-sdk/client-iot';

/** The AWS clients the fleet functions use. */
export interface FleetAwsClients {
  readonly iot: IoTClient;
  readonly autoScaling: AutoScalingClient;
}

/** Options for {@link createFleetAwsClients}. */
export interface FleetAwsClientsOptions {
  /**
   * Region.
   * @default the SDK's resolution (`AWS_REGION` on Lambda)
   */
  readonly region?: string;
  /**
   * Attempts per call, the first included (the SDK's standard retries,
   * throttling included). The pre-provisioning hook must answer within AWS
   * IoT's 5 s, so it asks for fewer.
   * @default 5
   */
  readonly maxAttempts?: number;
}

/**
 * The one place the fleet functions' real clients are built (composition
 * root). Endpoints come from the SDK's standard `AWS_ENDPOINT_URL_IOT` /
 * `AWS_ENDPOINT_URL_AUTO_SCALING` variables.
 *
 * @example
 * ```ts
 * const { iot, autoScaling } = createFleetAwsClients();
 * ```
 */
export function createFleetAwsClients(options: FleetAwsClientsOptions = {}): FleetAwsClients {
  const common = {
    maxAttempts: options.maxAttempts ?? 5,
    ...(options.region ? { region: options.region } : {}),
  };
  return { iot: new IoTClient(common), autoScaling: new AutoScalingClient(common) };
}
