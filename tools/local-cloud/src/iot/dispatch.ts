import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IotServiceError } from '../errors';
import type { FaultInjector } from '../fault-injection';
import { BodyTooLargeError, readBody, requestLogLine } from '../http-service';
import type { IdentityRegistry } from '../iam/identity-registry';
import { TokenBucket } from '../token-bucket';
import { authenticateIot, authorizeIot, type IotAuthorizationDeps } from './caller-checks';
import type { IotHandlers } from './handler';
import { matchRoute } from './routes';

/** Largest request body the control plane reads (policies are ≤ 2 KiB, CSRs a few KiB). */
export const MAX_IOT_BODY_BYTES = 256 * 1024;

/** What {@link createIotDispatch} needs. */
export interface IotDispatchOptions {
  /** One handler for every operation. */
  handlers: IotHandlers;
  /** Requests per second allowed per operation name; others are not throttled. */
  throttle: Partial<Record<string, number>>;
  log: ((line: string) => void) | undefined;
  /** Who signs requests (SigV4 verified against it) and how a role session's calls are decided. */
  identities: IdentityRegistry;
  region: string;
  authorization: IotAuthorizationDeps;
  /** Faults a test put in place (see `FaultInjector`). */
  faults?: FaultInjector;
}

/**
 * The HTTP side of the control plane: routes a request to its handler after
 * the checks AWS makes first (route, SigV4 header, body size, signature,
 * throttling, JSON, IAM authorization, then any injected fault), answers with the handler's JSON or the
 * AWS error, and logs one line. A refused request reaches no handler.
 */
export function createIotDispatch(
  options: IotDispatchOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const buckets = new Map<string, TokenBucket>();
  for (const [operation, tps] of Object.entries(options.throttle)) {
    if (tps !== undefined && tps > 0) buckets.set(operation, new TokenBucket(tps));
  }
  return async (req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
    let operation = 'Unknown';
    let status = 200;
    let payload: unknown;
    let errorCode: string | undefined;
    try {
      const route = matchRoute(method, rawPath);
      operation = route.operation;
      requireSignature(req);
      const raw = await readIotBody(req);
      const principal = authenticateIot(req, raw, options.identities, options.region);
      const bucket = buckets.get(operation);
      if (bucket !== undefined && !bucket.tryTake()) {
        throw new IotServiceError('ThrottlingException', 400, 'Rate exceeded');
      }
      const call = { params: route.params, query, headers: req.headers, body: parseJsonBody(raw) };
      await authorizeIot(principal, route.operation, call, req, options.authorization);
      const fault = options.faults?.match({ service: 'iot', operation, params: route.params });
      if (fault) {
        throw new IotServiceError(fault.code, fault.status, fault.message ?? 'injected fault');
      }
      const handler = options.handlers[route.operation];
      payload = await handler(call);
    } catch (error) {
      if (!(error instanceof IotServiceError)) throw error;
      status = error.status;
      errorCode = error.code;
      payload = { message: error.message };
    }
    sendJson(res, status, payload, errorCode);
    options.log?.(
      requestLogLine({
        service: 'iot',
        operation,
        method,
        status,
        error: errorCode,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      }),
    );
  };
}

/** An unsigned request is refused as AWS does; the signature itself is checked by `authenticateIot`. */
function requireSignature(req: IncomingMessage): void {
  const auth = req.headers['authorization'];
  if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256')) {
    throw new IotServiceError(
      'MissingAuthenticationTokenException',
      403,
      'Missing Authentication Token: requests must be signed with AWS Signature Version 4',
    );
  }
}

function readIotBody(req: IncomingMessage): Promise<Buffer> {
  return readBody(req, MAX_IOT_BODY_BYTES).catch((error: unknown) => {
    if (error instanceof BodyTooLargeError) {
      throw new IotServiceError('RequestEntityTooLargeException', 413, error.message);
    }
    throw error;
  });
}

function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new IotServiceError('SerializationException', 400, 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new IotServiceError('SerializationException', 400, 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** REST-JSON answer: the SDK reads the error name from `x-amzn-errortype`. */
function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  errorCode: string | undefined,
): void {
  const text = payload === undefined ? '' : JSON.stringify(payload);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorCode !== undefined) headers['x-amzn-errortype'] = errorCode;
  res.writeHead(status, headers);
  res.end(text);
}
