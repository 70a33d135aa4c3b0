import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3ServiceError } from './errors';
import { requestLogLine, startHttpService, type HttpService } from './http-service';
import { bucketHandlers } from './s3/bucket-handlers';
import type { S3Handler } from './s3/handler';
import { objectHandlers } from './s3/object-handlers';
import { S3ObjectStore } from './s3/object-store';
import { drainBody } from './s3/request-body';
import { operationName, parseTarget } from './s3/request-target';
import { sendS3Error } from './s3/xml-responses';

/** Options for {@link startS3Server}. */
export interface S3ServerOptions {
  port: number;
  region: string;
  /** Keep buckets and objects under this directory. */
  stateDir: string | undefined;
  log: ((line: string) => void) | undefined;
}

/**
 * A focused in-process S3: the bucket and object operations thingcert uses,
 * speaking what `@aws-sdk/client-s3` sends with default settings
 * (aws-chunked streaming bodies with trailing checksums, path-style requests).
 * This module only wires the parts: storage in `s3/object-store`, the wire
 * format in `s3/request-*`, answers in `s3/xml-responses`, operations in
 * `s3/*-handlers`.
 */
export async function startS3Server(options: S3ServerOptions): Promise<HttpService> {
  const store = await S3ObjectStore.open(options.stateDir);
  const handlers = new Map<string, S3Handler>(
    Object.entries({
      ...bucketHandlers({ store, region: options.region }),
      ...objectHandlers(store),
    }),
  );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { bucket: bucketName, key } = parseTarget(req);
    let operation = 'Unknown';
    let status: number;
    let errorCode: string | undefined;
    try {
      operation = operationName(method, bucketName, key, url.searchParams);
      requireSignature(req, url.searchParams);
      const handler = handlers.get(operation);
      if (handler === undefined) {
        await drainBody(req);
        throw new S3ServiceError(
          'NotImplemented',
          501,
          `local-cloud S3 does not emulate ${req.method} ${req.url?.split('?')[0]} (${operation})`,
        );
      }
      status = await handler({
        operation,
        req,
        res,
        bucketName: bucketName ?? '',
        key: key ?? '',
        query: url.searchParams,
      });
    } catch (error) {
      if (!(error instanceof S3ServiceError)) throw error;
      status = error.status;
      errorCode = error.code;
      sendS3Error(res, method, error, url.pathname);
    }
    options.log?.(
      requestLogLine({
        service: 's3',
        operation,
        method,
        status,
        error: errorCode,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      }),
    );
  };

  return startHttpService(options.port, handle, (error) =>
    options.log?.(requestLogLine({ service: 's3', fault: String(error) })),
  );
}

/** Any SigV4 signature (header or presigned query) is accepted locally; none is refused. */
function requireSignature(req: IncomingMessage, query: URLSearchParams): void {
  const signed =
    String(req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256') ||
    query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256';
  if (!signed) {
    throw new S3ServiceError(
      'AccessDenied',
      403,
      'Access Denied: requests must be signed with SigV4',
    );
  }
}
