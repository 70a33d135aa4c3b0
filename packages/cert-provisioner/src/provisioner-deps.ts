import type { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StructuredLogger } from '@thingcert/cfn-response';
import type { RetryDeadline } from './retry-until-deadline';

/** Waits `ms` milliseconds, or rejects early when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What the core functions are given instead of building clients themselves. */
export interface ProvisionerDeps {
  /** IoT control-plane client (build it with `createAwsClients`: retries bounded by the deadline). */
  readonly iot: IoTClient;
  /** S3 client for the credential bucket. */
  readonly s3: S3Client;
  /**
   * Structured logger; lines carry `thingName` and `step`, never key material.
   * @default no logging
   */
  readonly logger?: StructuredLogger;
  /**
   * Used for the bounded waits (thing detachment, duplicate requests); tests
   * inject one that returns at once.
   * @default a `setTimeout` based sleep
   */
  readonly sleep?: Sleep;
  /**
   * The deadline the clients' retries honour (`createAwsClients` returns it):
   * the certificate resource handler sets it to each invocation's abort point.
   * @default none: the clients' own attempt limit applies
   */
  readonly retryDeadline?: RetryDeadline;
}

/** The default {@link Sleep}. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A logger that drops everything. */
export const silentLogger: StructuredLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
