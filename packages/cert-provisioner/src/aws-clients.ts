import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import { RetryDeadline, RetryUntilDeadline } from './retry-until-deadline';

/** The AWS clients the provisioner uses. */
export interface AwsClients {
  readonly iot: IoTClient;
  readonly s3: S3Client;
  /**
   * Bounds both clients' throttling retries while set; the certificate
   * resource handler sets it to each invocation's abort point.
   */
  readonly retryDeadline: RetryDeadline;
}

/** Options for {@link createAwsClients}. */
export interface AwsClientsOptions {
  /**
   * Region.
   * @default the SDK's resolution (`AWS_REGION` on Lambda)
   */
  readonly region?: string;
  /**
   * Attempts per call, the first included: for transient errors always, and
   * for throttling when no invocation deadline is set (outside the handler).
   * Inside the handler, throttled calls are retried until the invocation's
   * abort point instead.
   * @default 8
   */
  readonly maxAttempts?: number;
}

/**
 * The one place real clients are built (composition root). Endpoints come from
 * the SDK's standard `AWS_ENDPOINT_URL_IOT` / `AWS_ENDPOINT_URL_S3` variables,
 * which SDK v3 reads natively; with an IP-address endpoint the S3 client uses
 * path-style addressing by itself. Both clients retry with
 * {@link RetryUntilDeadline}: AWS IoT throttles create calls at about 10 TPS
 * per account, and many custom resources created at once must wait their turn
 * for as long as their invocations allow, not for a fixed number of attempts.
 *
 * @example
 * ```ts
 * const { iot, s3 } = createAwsClients({ region: 'eu-west-1' });
 * ```
 */
export function createAwsClients(options: AwsClientsOptions = {}): AwsClients {
  const retryDeadline = new RetryDeadline();
  const maxAttempts = options.maxAttempts ?? 8;
  const common = {
    retryStrategy: new RetryUntilDeadline(retryDeadline, maxAttempts),
    maxAttempts,
    ...(options.region ? { region: options.region } : {}),
  };
  return { iot: new IoTClient(common), s3: new S3Client(common), retryDeadline };
}
