import type { IncomingMessage } from 'node:http';
import { S3ServiceError } from '../errors';
import type { IdentityRegistry } from '../iam/identity-registry';
import {
  authenticate,
  AuthenticationError,
  type AuthenticatedRequest,
  type AuthenticationFailure,
} from '../iam/request-authenticator';
import { queryParams } from '../iam/sigv4';

/**
 * S3's answer to each authentication failure (S3 API reference, "Error responses"): code and
 * status. Header-signed and presigned requests differ only for a malformed signature.
 */
const S3_AUTH_ERRORS: Record<AuthenticationFailure, { code: string; status: number }> = {
  UnknownAccessKey: { code: 'InvalidAccessKeyId', status: 403 },
  // S3 names a temporary key sent without its token unknown, as AWS does.
  MissingSecurityToken: { code: 'InvalidAccessKeyId', status: 403 },
  InvalidSecurityToken: { code: 'InvalidToken', status: 400 },
  ExpiredSecurityToken: { code: 'ExpiredToken', status: 400 },
  SignatureMismatch: { code: 'SignatureDoesNotMatch', status: 403 },
  RequestExpired: { code: 'AccessDenied', status: 403 },
  RequestTimeTooSkewed: { code: 'RequestTimeTooSkewed', status: 403 },
  WrongCredentialScope: { code: 'AuthorizationHeaderMalformed', status: 400 },
  MalformedSignature: { code: 'AuthorizationHeaderMalformed', status: 400 },
};

/**
 * Authenticates an S3 request (header or presigned query SigV4). S3 signs the path as sent and
 * takes the payload hash from `x-amz-content-sha256` (`UNSIGNED-PAYLOAD`, a hex digest, or a
 * `STREAMING-…` value: then only the seed signature, the one in the header, is verified; the
 * per-chunk signatures are not).
 * @throws S3ServiceError with S3's code for the failure.
 */
export function authenticateS3(
  req: IncomingMessage,
  registry: IdentityRegistry,
  region: string,
): AuthenticatedRequest {
  const request = { method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: req.headers };
  try {
    return authenticate(request, {
      registry,
      service: 's3',
      region,
      doubleEncodePath: false,
      payloadHash: (parts) => {
        if (parts.style === 'query') {
          const declared = queryParams(request.rawUrl).find(([k]) => k === 'X-Amz-Content-Sha256');
          return declared?.[1] ?? 'UNSIGNED-PAYLOAD';
        }
        const header = req.headers['x-amz-content-sha256'];
        return typeof header === 'string' ? header : undefined;
      },
    });
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    const { code, status } = S3_AUTH_ERRORS[error.failure];
    const presigned = !String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256');
    throw new S3ServiceError(
      presigned && code === 'AuthorizationHeaderMalformed'
        ? 'AuthorizationQueryParametersError'
        : code,
      status,
      error.message,
    );
  }
}
