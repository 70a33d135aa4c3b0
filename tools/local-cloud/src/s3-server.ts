import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3ServiceError } from './errors';
import {
  requestLogLine,
  requestTls,
  startHttpService,
  type HttpService,
  type TlsListenerOptions,
} from './http-service';
import type { FaultInjector } from './fault-injection';
import { AccessEvaluationError, type AccessEvaluator } from './iam/access-evaluator';
import type { IdentityRegistry, Principal } from './iam/identity-registry';
import { s3AccessRequests, s3CommonContext } from './iam/s3-access-requests';
import { authenticateS3 } from './s3/authentication';
import { bucketHandlers } from './s3/bucket-handlers';
import { bucketPolicyHandlers } from './s3/bucket-policy-handlers';
import type { S3Handler } from './s3/handler';
import { objectHandlers } from './s3/object-handlers';
import { S3ObjectStore } from './s3/object-store';
import { ADMIN_ACCESS, roleSessionAccess, type S3Access } from './s3/request-access';
import { drainBody } from './s3/request-body';
import { operationName, parseTarget } from './s3/request-target';
import { sendS3Error } from './s3/xml-responses';

/** Options for {@link startS3Server}. */
export interface S3ServerOptions {
  port: number;
  /** Also serve HTTPS (where `aws:SecureTransport` is true). */
  tls: TlsListenerOptions | undefined;
  region: string;
  accountId: string;
  /** Keep buckets and objects under this directory. */
  stateDir: string | undefined;
  /** Who signs requests, and how their requests are decided. */
  identities: IdentityRegistry;
  evaluator: AccessEvaluator;
  /** Faults a test put in place (see `FaultInjector`). */
  faults?: FaultInjector;
  log: ((line: string) => void) | undefined;
}

/** Operations whose bucket need not exist for IAM to decide (the bucket policy comes with it). */
const WITHOUT_BUCKET = new Set(['ListBuckets', 'CreateBucket']);

/**
 * A focused in-process S3: the bucket and object operations thingcert uses,
 * speaking what `@aws-sdk/client-s3` sends with default settings
 * (aws-chunked streaming bodies with trailing checksums, path-style requests),
 * over HTTP and HTTPS. Every request is authenticated (SigV4) and, for a role
 * session, authorized with its identity policies and the bucket policy before
 * anything changes; then any fault a test injected. This module only wires the parts: storage in
 * `s3/object-store`, the wire format in `s3/request-*`, answers in
 * `s3/xml-responses`, operations in `s3/*-handlers`, IAM in `iam/`.
 */
export async function startS3Server(options: S3ServerOptions): Promise<HttpService> {
  const store = await S3ObjectStore.open(options.stateDir);
  const handlers = new Map<string, S3Handler>(
    Object.entries({
      ...bucketHandlers({ store, region: options.region }),
      ...bucketPolicyHandlers(store),
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
      const caller = authenticateS3(req, options.identities, options.region);
      const handler = handlers.get(operation);
      if (handler === undefined) {
        await drainBody(req);
        throw new S3ServiceError(
          'NotImplemented',
          501,
          `local-cloud S3 does not emulate ${req.method} ${req.url?.split('?')[0]} (${operation})`,
        );
      }
      const tls = requestTls(req);
      const facts = {
        operation,
        bucket: bucketName ?? '',
        key: key ?? '',
        query: url.searchParams,
        headers: req.headers,
        style: caller.style,
        signatureAgeMs: caller.signatureAgeMs,
        tlsProtocol: tls.protocol,
        accountId: options.accountId,
      };
      const access = accessOf(caller.principal, store, options, {
        secure: tls.secure,
        sourceIp: req.socket.remoteAddress,
      });
      // A bucket that does not exist is NoSuchBucket for anyone: the handler says so.
      if (WITHOUT_BUCKET.has(operation) || store.hasBucket(facts.bucket)) {
        for (const request of s3AccessRequests(facts)) await access.require(request);
      }
      const fault = options.faults?.match({
        service: 's3',
        operation,
        bucket: facts.bucket,
        key: facts.key,
      });
      if (fault) {
        await drainBody(req);
        throw new S3ServiceError(fault.code, fault.status, fault.message ?? 'injected fault');
      }
      status = await handler({
        operation,
        req,
        res,
        bucketName: facts.bucket,
        key: facts.key,
        query: url.searchParams,
        access,
        commonContext: s3CommonContext(facts),
      });
    } catch (error) {
      const answer = asS3Error(error);
      status = answer.status;
      errorCode = answer.code;
      sendS3Error(res, method, answer, url.pathname);
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

  return startHttpService(
    options.port,
    handle,
    (error) => options.log?.(requestLogLine({ service: 's3', fault: String(error) })),
    options.tls,
  );
}

function accessOf(
  principal: Principal,
  store: S3ObjectStore,
  options: S3ServerOptions,
  transport: { secure: boolean; sourceIp: string | undefined },
): S3Access {
  if (principal.kind === 'admin') return ADMIN_ACCESS;
  return roleSessionAccess(principal, {
    evaluator: options.evaluator,
    kms: options.identities.kms,
    store,
    transport,
    region: options.region,
    accountId: options.accountId,
  });
}

/** S3 errors pass through; an evaluation the simulator refused is an internal error. */
function asS3Error(error: unknown): S3ServiceError {
  if (error instanceof S3ServiceError) return error;
  if (error instanceof AccessEvaluationError) {
    return new S3ServiceError('InternalError', 500, `local-cloud IAM: ${error.message}`);
  }
  throw error;
}

/** An unsigned request is refused; the signature itself is checked by `authenticateS3`. */
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
