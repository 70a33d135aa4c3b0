import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalIamError } from '../errors';
import {
  BodyTooLargeError,
  readBody,
  requestLogLine,
  startHttpService,
  type HttpService,
} from '../http-service';
import { sameSecret, type IdentityRegistry } from './identity-registry';
import type { LocalIam } from './local-iam';

/** Largest admin request body (a role with its policies). */
const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

/** Where another process reaches the local IAM: loopback URL and the bearer token it needs. */
export interface AdminEndpoint {
  /** e.g. `http://127.0.0.1:40125` */
  endpoint: string;
  /** Sent as `authorization: Bearer <token>`; printed by the CLI, never put in `cloud.env`. */
  token: string;
}

/** The running admin endpoint. */
export interface AdminServer extends AdminEndpoint {
  close(): Promise<void>;
}

/** A route's answer: status and JSON body (none for 204). */
type Answer = { status: number; body?: unknown };

/**
 * Serves the {@link LocalIam} API as JSON on 127.0.0.1 for another process (the local deployer),
 * behind a bearer token, plus the container-credentials route the SDK's default credential chain
 * calls (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, authorized by the session's own token):
 *
 * | method | path | body → answer |
 * | --- | --- | --- |
 * | PUT | `/roles/{role}` | `{path?, policies?}` → RoleDescription |
 * | GET / DELETE | `/roles/{role}` | → RoleDescription / 204 |
 * | PUT / DELETE | `/roles/{role}/policies/{name}` | policy document / – → 204 |
 * | POST | `/roles/{role}/sessions` | `{sessionName, durationSeconds?}` → RoleSessionCredentials |
 * | PUT | `/kms-keys/{keyId}` | `{aliases?, keyPolicy?}` → `{keyArn}` |
 * | POST | `/roles/{role}/simulations` | `{action, resource, context?, resourcePolicy?}` → SimulationResult |
 * | GET | `/container-credentials/{accessKeyId}` | → `{AccessKeyId, SecretAccessKey, Token, Expiration}` |
 *
 * Errors: `{code, message}` with 400 (`ValidationError`, `MalformedPolicyDocument`), 401, 404
 * (`NoSuchEntity`, unknown route).
 */
export async function startAdminServer(
  registry: IdentityRegistry,
  options: { port: number; log: ((line: string) => void) | undefined },
): Promise<AdminServer> {
  const token = randomBytes(24).toString('hex');
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let segments: string[] = [];
    let answer: Answer;
    try {
      segments = path
        .split('/')
        .filter((s) => s.length > 0)
        .map((s) => decodeURIComponent(s));
      if (segments[0] === 'container-credentials' && segments.length === 2 && method === 'GET') {
        answer = containerCredentials(registry, segments[1] ?? '', req.headers.authorization);
      } else {
        const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!sameSecret(token, given)) {
          answer = {
            status: 401,
            body: { code: 'Unauthorized', message: 'Missing or wrong bearer token' },
          };
        } else {
          const body = await readJson(req);
          answer = await route(registry, method, segments, body);
        }
      }
    } catch (error) {
      answer = errorAnswer(error);
    }
    const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    options.log?.(
      requestLogLine({ service: 'admin', method, path: segments[0], status: answer.status }),
    );
  };
  const service: HttpService = await startHttpService(options.port, handle, (error) =>
    options.log?.(requestLogLine({ service: 'admin', fault: String(error) })),
  );
  const endpoint = `http://127.0.0.1:${service.port}`;
  registry.containerCredentialsBase = `${endpoint}/container-credentials`;
  return { endpoint, token, close: () => service.close() };
}

async function route(
  iam: LocalIam,
  method: string,
  segments: string[],
  body: unknown,
): Promise<Answer> {
  const [collection, name = '', sub, subName = ''] = segments;
  const input = (body ?? {}) as Record<string, unknown>;
  if (collection === 'roles' && segments.length === 2) {
    if (method === 'PUT') {
      return ok(await iam.putRole({ ...(input as object), roleName: name }));
    }
    if (method === 'GET') {
      const role = await iam.getRole(name);
      if (role === undefined)
        throw new LocalIamError('NoSuchEntity', `The role with name ${name} cannot be found.`);
      return ok(role);
    }
    if (method === 'DELETE') return done(await iam.deleteRole(name));
  }
  if (collection === 'roles' && sub === 'policies' && segments.length === 4) {
    if (method === 'PUT') return done(await iam.putRolePolicy(name, subName, input));
    if (method === 'DELETE') return done(await iam.deleteRolePolicy(name, subName));
  }
  if (collection === 'roles' && sub === 'sessions' && segments.length === 3 && method === 'POST') {
    return ok(
      await iam.assumeRole({
        roleName: name,
        sessionName: typeof input.sessionName === 'string' ? input.sessionName : '',
        durationSeconds:
          input.durationSeconds === undefined ? undefined : Number(input.durationSeconds),
      }),
    );
  }
  if (
    collection === 'roles' &&
    sub === 'simulations' &&
    segments.length === 3 &&
    method === 'POST'
  ) {
    return ok(
      await iam.simulatePrincipalPolicy({
        ...(input as { action: string; resource: string }),
        roleName: name,
      }),
    );
  }
  if (collection === 'kms-keys' && segments.length === 2 && method === 'PUT') {
    return ok(await iam.putKmsKey({ ...(input as object), keyId: name }));
  }
  return {
    status: 404,
    body: { code: 'NotFound', message: `No admin route ${method} /${segments.join('/')}` },
  };
}

/** What the SDK's `fromHttp` (container credentials) expects; `Expiration` is required there. */
function containerCredentials(
  registry: IdentityRegistry,
  accessKeyId: string,
  token: string | undefined,
): Answer {
  const session = registry.sessionForContainerToken(accessKeyId, token ?? '');
  if (session === undefined) {
    return {
      status: 403,
      body: { Code: 'AccessDenied', Message: 'Unknown session or authorization token' },
    };
  }
  return {
    status: 200,
    body: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      Token: session.sessionToken,
      // A session without expiry is handed out for an hour at a time; the SDK fetches it again.
      Expiration: (session.expiration ?? new Date(Date.now() + 3600_000)).toISOString(),
      RoleArn: session.roleArn,
    },
  };
}

const ok = (body: unknown): Answer => ({ status: 200, body });
const done = (_: void): Answer => ({ status: 204 });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, MAX_ADMIN_BODY_BYTES);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new LocalIamError('ValidationError', 'The request body is not valid JSON', {
      cause: error,
    });
  }
}

function errorAnswer(error: unknown): Answer {
  if (error instanceof LocalIamError) {
    const status = error.code === 'NoSuchEntity' ? 404 : error.code === 'AccessDenied' ? 403 : 400;
    return { status, body: { code: error.code, message: error.message } };
  }
  if (error instanceof BodyTooLargeError) {
    return { status: 413, body: { code: 'ValidationError', message: error.message } };
  }
  if (error instanceof URIError) {
    return {
      status: 400,
      body: { code: 'ValidationError', message: 'Malformed percent-encoding' },
    };
  }
  throw error;
}
