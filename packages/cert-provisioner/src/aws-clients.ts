import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';

/** The AWS clients the provisioner uses. */
export interface AwsClients {
  readonly iot: IoTClient;
  readonly s3: S3Client;
}

/** Options for {@link createAwsClients}. */
export interface AwsClientsOptions {
  /**
   * Region.
   * @default the SDK's resolution (`AWS_REGION` on Lambda)
   */
  readonly region?: string;
  /**
   * Attempts per call, the first included; throttling is retried with
   * adaptive client-side rate limiting.
   * @default 8
   */
  readonly maxAttempts?: number;
}

/**
 * The one place real clients are built (composition root). Endpoints come from
 * the SDK's standard `AWS_ENDPOINT_URL_IOT` / `AWS_ENDPOINT_URL_S3` variables,
 * which SDK v3 reads natively; with an IP-address endpoint the S3 client uses
 * path-style addressing by itself. Retry mode is `adaptive`: AWS IoT throttles
 * create calls at about 10-15 TPS.
 *
 * @example
 * ```ts
 * const { iot, s3 } = createAwsClients({ region: 'eu-west-1' });
 * ```
 */
export function createAwsClients(options: AwsClientsOptions = {}): AwsClients {
  const common = {
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    ...(options.region ? { region: options.region } : {}),
  };
  return { iot: new IoTClient(common), s3: new S3Client(common) };
}
