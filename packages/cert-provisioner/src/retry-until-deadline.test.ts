import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateKeysAndCertificateCommand, IoTClient } from '@aws-sdk/client-iot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetryDeadline, RetryUntilDeadline } from './retry-until-deadline';

/**
 * A loopback server speaking AWS IoT's REST-JSON errors: it throttles the
 * first `throttled` requests (or answers `errorName`), then succeeds. The real
 * SDK client and its retry middleware run against it.
 */
let server: Server;
let endpoint: string;
let port: number;
let requests = 0;
let throttled = Number.POSITIVE_INFINITY;
let errorName = 'ThrottlingException';

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    requests++;
    if (requests <= throttled) {
      response.writeHead(errorName === 'ThrottlingException' ? 429 : 400, {
        'content-type': 'application/json',
        'x-amzn-errortype': errorName,
      });
      response.end(JSON.stringify({ message: 'Rate exceeded' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ certificateId: 'abc', certificateArn: 'arn:cert/abc' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  endpoint = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  requests = 0;
  throttled = Number.POSITIVE_INFINITY;
  errorName = 'ThrottlingException';
});

function clientWith(deadline: RetryDeadline, maxAttempts: number, random: () => number): IoTClient {
  return new IoTClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts,
    retryStrategy: new RetryUntilDeadline(deadline, maxAttempts, random),
  });
}

const create = new CreateKeysAndCertificateCommand({ setAsActive: true });

/** A deadline `ms` from now. */
function deadlineIn(ms: number): RetryDeadline {
  const deadline = new RetryDeadline();
  deadline.set(Date.now() + ms);
  return deadline;
}

/** Sends `create` and returns what it threw. */
const failureOf = (iot: IoTClient): Promise<unknown> => iot.send(create).catch((e: unknown) => e);

describe('Class: RetryUntilDeadline', () => {
  it('without a deadline, stops after maxAttempts and throws the throttling error', async () => {
    const error = await failureOf(clientWith(new RetryDeadline(), 3, () => 0));
    expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { attempts: 3 } });
    expect(requests).toBe(3);
  });

  it('with a deadline ahead, keeps retrying past maxAttempts until the call succeeds', async () => {
    throttled = 12;
    const out = await clientWith(deadlineIn(60_000), 3, () => 0).send(create);
    expect(out.certificateId).toBe('abc');
    expect(out.$metadata.attempts).toBe(13);
    expect(requests).toBe(13);
  });

  it('does not start a retry whose backoff would end past the deadline', async () => {
    // Backoffs with this jitter: 999 ms, then 1998 ms (which would end ~3 s in).
    const error = await failureOf(clientWith(deadlineIn(2_500), 50, () => 0.999));
    expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { attempts: 2 } });
    expect(requests).toBe(2);
    expect(
      (error as { $metadata: { totalRetryDelay: number } }).$metadata.totalRetryDelay,
    ).toBeLessThan(2_500);
  });

  it('gives a transient error only maxAttempts, even with a deadline ahead', async () => {
    // A wrong endpoint must fail in seconds, not retry for the whole invocation.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      const error = await failureOf(clientWith(deadlineIn(60_000), 3, () => 0));
      expect(error).toMatchObject({ code: 'ECONNREFUSED', $metadata: { attempts: 3 } });
    } finally {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    }
  });

  it('never retries an error that is not throttling or transient, deadline or not', async () => {
    errorName = 'InvalidRequestException';
    const error = await failureOf(clientWith(deadlineIn(60_000), 8, () => 0));
    expect(error).toMatchObject({ name: 'InvalidRequestException', $metadata: { attempts: 1 } });
    expect(requests).toBe(1);
  });

  it('falls back to the attempt limit once the deadline is cleared', async () => {
    const deadline = deadlineIn(60_000);
    deadline.clear();
    expect(deadline.epochMs).toBeUndefined();
    const error = await failureOf(clientWith(deadline, 2, () => 0));
    expect(error).toMatchObject({ $metadata: { attempts: 2 } });
  });
});
