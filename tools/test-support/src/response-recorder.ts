import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One PUT the recorder received, exactly as it arrived. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  /** `rawBody` parsed as JSON, or `undefined` if it is not JSON. */
  readonly json: unknown;
}

/** Options to make the recorder misbehave like a flaky S3. */
export interface ResponseRecorderOptions {
  /** Answer the first N requests with HTTP 500. @default 0 */
  readonly failFirst?: number;
  /** Destroy the socket of the first N requests without answering. @default 0 */
  readonly dropFirst?: number;
  /** Status for every request after the faults. @default 200 */
  readonly status?: number;
}

/** A local HTTP server standing in for CloudFormation's pre-signed response URL. */
export interface ResponseRecorder {
  /** Base URL, e.g. `http://127.0.0.1:12345`. */
  readonly url: string;
  /** A fresh pre-signed-looking URL for one request. */
  responseUrl(name?: string): string;
  /** Every request received, faulted ones included, in order. */
  readonly requests: RecordedRequest[];
  /** Requests answered with 2xx. */
  accepted(): RecordedRequest[];
  /** Resolves once `count` requests have been accepted (2xx). */
  waitForAccepted(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * Starts a recorder on a free loopback port.
 * @example
 * ```ts
 * const recorder = await startResponseRecorder({ failFirst: 2 });
 * await handler({ ...event, ResponseURL: recorder.responseUrl() });
 * expect(recorder.accepted()[0]?.json).toMatchObject({ Status: 'SUCCESS' });
 * ```
 */
export async function startResponseRecorder(
  options: ResponseRecorderOptions = {},
): Promise<ResponseRecorder> {
  const requests: RecordedRequest[] = [];
  const acceptedRequests: RecordedRequest[] = [];
  const waiters: Array<() => void> = [];
  const sockets = new Set<Socket>();
  let seen = 0;
  let counter = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        json,
      };
      requests.push(recorded);
      const index = seen++;
      const dropFirst = options.dropFirst ?? 0;
      const failFirst = options.failFirst ?? 0;
      if (index < dropFirst) {
        req.socket.destroy();
        return;
      }
      if (index < dropFirst + failFirst) {
        res.writeHead(500).end('InternalError');
        return;
      }
      const status = options.status ?? 200;
      res.writeHead(status).end();
      if (status >= 200 && status < 300) {
        acceptedRequests.push(recorded);
        for (const wake of waiters.splice(0)) wake();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    requests,
    responseUrl: (name = `response-${++counter}`) =>
      `${url}/cloudformation-responses/${encodeURIComponent(name)}?X-Amz-Signature=local`,
    accepted: () => [...acceptedRequests],
    async waitForAccepted(count, timeoutMs = 10_000) {
      const started = Date.now();
      while (acceptedRequests.length < count) {
        const left = timeoutMs - (Date.now() - started);
        if (left <= 0) {
          throw new Error(`expected ${count} accepted responses, got ${acceptedRequests.length}`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return [...acceptedRequests];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
