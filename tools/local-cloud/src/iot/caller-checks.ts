import type { IncomingMessage } from 'node:http';
import { IotServiceError } from '../errors';
import { requestTls } from '../http-service';
import { AccessEvaluationError, type AccessEvaluator } from '../iam/access-evaluator';
import type { IdentityRegistry, Principal } from '../iam/identity-registry';
import { iotAccessRequests } from '../iam/iot-access-requests';
import {
  authenticate,
  AuthenticationError,
  type AuthenticationFailure,
} from '../iam/request-authenticator';
import { sha256Hex } from '../iam/sigv4';
import type { IotCall } from './handler';
import type { IotOperation } from './routes';

const INVALID_TOKEN = 'The security token included in the request is invalid.';
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * The AWS front door's answers for the IoT control plane (REST-JSON): unknown key and bad token
 * → `UnrecognizedClientException`, bad signature or scope → `InvalidSignatureException`, all 403.
 */
const IOT_AUTH_ERRORS: Record<AuthenticationFailure, { code: string; message?: string }> = {
  UnknownAccessKey: { code: 'UnrecognizedClientException', message: INVALID_TOKEN },
  MissingSecurityToken: { code: 'UnrecognizedClientException', message: INVALID_TOKEN },
  InvalidSecurityToken: { code: 'UnrecognizedClientException', message: INVALID_TOKEN },
  ExpiredSecurityToken: {
    code: 'ExpiredTokenException',
    message: 'The security token included in the request is expired',
  },
  SignatureMismatch: { code: 'InvalidSignatureException', message: SIGNATURE_MISMATCH },
  RequestExpired: { code: 'InvalidSignatureException' },
  RequestTimeTooSkewed: { code: 'InvalidSignatureException', message: 'Signature expired' },
  WrongCredentialScope: { code: 'InvalidSignatureException' },
  MalformedSignature: { code: 'IncompleteSignatureException' },
};

/**
 * Authenticates a control-plane request. IoT, like every service but S3, signs the path
 * URI-encoded once more and the SHA-256 of the body as payload hash.
 * @throws IotServiceError 403 with AWS's error name.
 */
export function authenticateIot(
  req: IncomingMessage,
  body: Buffer,
  registry: IdentityRegistry,
  region: string,
): Principal {
  try {
    return authenticate(
      { method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: req.headers },
      {
        registry,
        service: 'iot',
        region,
        doubleEncodePath: true,
        payloadHash: () => sha256Hex(body),
      },
    ).principal;
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    const answer = IOT_AUTH_ERRORS[error.failure];
    throw new IotServiceError(answer.code, 403, answer.message ?? error.message);
  }
}

/** What {@link authorizeIot} needs. */
export interface IotAuthorizationDeps {
  evaluator: AccessEvaluator;
  /** `arn:aws:iot:<region>:<account>` */
  arnPrefix: string;
}

/**
 * Authorizes a role session's request with its identity policies (the admin may do everything).
 * @throws IotServiceError `AccessDeniedException` (403) when AWS would refuse it.
 */
export async function authorizeIot(
  principal: Principal,
  operation: IotOperation,
  call: Pick<IotCall, 'params' | 'headers' | 'body'>,
  req: IncomingMessage,
  deps: IotAuthorizationDeps,
): Promise<void> {
  if (principal.kind === 'admin') return;
  const requests = iotAccessRequests(operation, call, deps.arnPrefix);
  const denied = (action: string, resource: string, reason: string) =>
    new IotServiceError(
      'AccessDeniedException',
      403,
      `User: ${principal.assumedRoleArn} is not authorized to perform: ${action} on resource: ${resource}${reason.length > 0 ? ` ${reason}` : ''}`,
    );
  if (requests === undefined) {
    const named = call.headers['x-amzn-principal'] ?? call.body.target;
    throw denied(`iot:${operation}`, typeof named === 'string' ? named : '*', '');
  }
  try {
    for (const request of requests) {
      const decision = await deps.evaluator.decide(principal, request, {
        secure: requestTls(req).secure,
        sourceIp: req.socket.remoteAddress,
      });
      if (!decision.allowed) throw denied(request.action, request.resource, decision.reason);
    }
  } catch (error) {
    if (!(error instanceof AccessEvaluationError)) throw error;
    throw new IotServiceError('InternalFailureException', 500, `local-cloud IAM: ${error.message}`);
  }
}
