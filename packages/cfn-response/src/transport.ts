import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ResponseDeliveryError } from './errors';

/** How the response PUT is retried. */
export interface RetryOptions {
  /**
   * Total PUT attempts, the first included.
   * @default 6
   */
  readonly attempts?: number;
  /**
   * Base of the exponential backoff between attempts, in milliseconds.
   * @default 200
   */
  readonly baseDelayMs?: number;
  /**
   * Longest wait between two attempts, in milliseconds.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * Time limit for one attempt, in milliseconds.
   * @default 10000
   */
  readonly attemptTimeoutMs?: number;
}

interface AttemptResult {
  readonly statusCode: number;
}

function putOnce(url: URL, body: string, timeoutMs: number): Promise<AttemptResult> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'PUT',
        // The pre-signed URL is signed without a content type: S3 refuses any
        // other value, and `content-length` must count bytes, not characters.
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body, 'utf8') },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Full-jitter exponential backoff: a random wait in [0, min(max, base·2^n)]. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.round(Math.random() * ceiling);
}

/**
 * PUTs a response body to a pre-signed URL, retrying network errors and 5xx
 * answers with jittered backoff. 4xx answers are final (an expired or altered
 * URL does not heal). Error messages never contain the URL.
 *
 * @throws {ResponseDeliveryError} when every attempt failed.
 */
export async function putResponse(
  responseUrl: string,
  body: string,
  options: RetryOptions = {},
): Promise<{ attempts: number; statusCode: number }> {
  const attempts = Math.max(1, options.attempts ?? 6);
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
  const url = new URL(responseUrl);
  let lastStatus: number | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) {
      await new Promise((resolve) =>
        setTimeout(resolve, backoffDelay(attempt - 1, baseDelayMs, maxDelayMs)),
      );
    }
    try {
      const { statusCode } = await putOnce(url, body, attemptTimeoutMs);
      lastStatus = statusCode;
      if (statusCode >= 200 && statusCode < 300) return { attempts: attempt + 1, statusCode };
      if (statusCode < 500) {
        throw new ResponseDeliveryError(
          `Response PUT was refused with HTTP ${statusCode}; not retrying`,
          { statusCode, attempts: attempt + 1 },
        );
      }
      lastError = new Error(`HTTP ${statusCode}`);
    } catch (error) {
      if (error instanceof ResponseDeliveryError) throw error;
      lastError = error;
    }
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  throw new ResponseDeliveryError(
    `Response PUT failed after ${attempts} attempts (last: ${detail})`,
    { ...(lastStatus !== undefined ? { statusCode: lastStatus } : {}), attempts },
    { cause: lastError },
  );
}
