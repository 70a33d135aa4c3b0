import type { IdentityRegistry, Principal } from './identity-registry';
import { sameSecret } from './identity-registry';
import {
  amzDateMillis,
  claimedAccessKeyId,
  expectedSignature,
  parseSigV4,
  SigV4FormatError,
  type ReceivedRequest,
  type SigV4Parts,
} from './sigv4';

/** Why authentication failed; each service answers it with its own AWS error. */
export type AuthenticationFailure =
  | 'UnknownAccessKey'
  | 'MissingSecurityToken'
  | 'InvalidSecurityToken'
  | 'ExpiredSecurityToken'
  | 'SignatureMismatch'
  | 'RequestExpired'
  | 'RequestTimeTooSkewed'
  | 'WrongCredentialScope'
  | 'MalformedSignature';

/** A request whose signature the local cloud does not accept. */
export class AuthenticationError extends Error {
  constructor(
    readonly failure: AuthenticationFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AuthenticationError';
  }
}

/** AWS refuses a header-signed request more than 15 minutes away from its clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** What {@link authenticate} needs besides the request. */
export interface AuthenticationContext {
  registry: IdentityRegistry;
  /** Signing name of the service (`s3`, `iot`): the credential scope must name it. */
  service: string;
  region: string;
  /** Whether the path is URI-encoded once more (every service but S3). */
  doubleEncodePath: boolean;
  /**
   * The payload hash to verify against. S3: the `x-amz-content-sha256` header (or
   * `UNSIGNED-PAYLOAD` for a presigned URL); other services: the body's SHA-256.
   */
  payloadHash: (parts: SigV4Parts) => string | undefined;
  /** @default Date.now() */
  now?: number;
}

/** Who sent a request and how it was signed. */
export interface AuthenticatedRequest {
  principal: Principal;
  /** Header-signed or presigned (`s3:authType` REST-HEADER / REST-QUERY-STRING). */
  style: SigV4Parts['style'] | undefined;
  /** Milliseconds since the signature was made (`s3:signatureAge`). */
  signatureAgeMs: number | undefined;
}

/**
 * Authenticates a SigV4-signed request against the registry. A registered session's request is
 * verified fully (scope, time, session token, signature); the default admin identity (any key
 * that is not of the registry's `ASIA…` form) is accepted as before, unverified.
 * @throws AuthenticationError
 */
export function authenticate(
  request: ReceivedRequest,
  context: AuthenticationContext,
): AuthenticatedRequest {
  const accessKeyId = claimedAccessKeyId(request);
  if (accessKeyId === undefined) {
    return { principal: { kind: 'admin' }, style: undefined, signatureAgeMs: undefined };
  }
  const identity = context.registry.lookup(accessKeyId);
  if (identity.kind === 'unknown') {
    throw new AuthenticationError(
      'UnknownAccessKey',
      'The AWS Access Key Id you provided does not exist in our records.',
    );
  }
  if (identity.kind === 'admin' && identity.secretAccessKey === undefined) {
    return { principal: { kind: 'admin' }, style: undefined, signatureAgeMs: undefined };
  }
  const now = context.now ?? Date.now();
  const parts = parseOrThrow(request);
  if (parts.service !== context.service) {
    throw new AuthenticationError(
      'WrongCredentialScope',
      `Credential should be scoped to correct service: '${context.service}'.`,
    );
  }
  if (parts.region !== context.region) {
    throw new AuthenticationError(
      'WrongCredentialScope',
      `the region '${parts.region}' is wrong; expecting '${context.region}'`,
    );
  }
  const signedAt = amzDateMillis(parts.amzDate);
  checkTime(parts, signedAt, now);
  if (identity.kind === 'session') {
    if (parts.securityToken === undefined) {
      throw new AuthenticationError(
        'MissingSecurityToken',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    }
    if (!sameSecret(identity.sessionToken, parts.securityToken)) {
      throw new AuthenticationError(
        'InvalidSecurityToken',
        'The provided token is malformed or otherwise invalid.',
      );
    }
    if (identity.expiresAt !== undefined && now >= identity.expiresAt) {
      throw new AuthenticationError('ExpiredSecurityToken', 'The provided token has expired.');
    }
  }
  const payloadHash = context.payloadHash(parts);
  if (payloadHash === undefined) {
    throw new AuthenticationError(
      'MalformedSignature',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  const expected = expectedSignature(parts, request, identity.secretAccessKey as string, {
    doubleEncodePath: context.doubleEncodePath,
    payloadHash,
  });
  if (!sameSecret(expected, parts.signature)) {
    throw new AuthenticationError(
      'SignatureMismatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  return {
    principal: identity.kind === 'session' ? identity.principal : { kind: 'admin' },
    style: parts.style,
    signatureAgeMs: Math.max(0, now - signedAt),
  };
}

function parseOrThrow(request: ReceivedRequest): SigV4Parts {
  try {
    return parseSigV4(request);
  } catch (error) {
    if (!(error instanceof SigV4FormatError)) throw error;
    throw new AuthenticationError('MalformedSignature', error.message, { cause: error });
  }
}

function checkTime(parts: SigV4Parts, signedAt: number, now: number): void {
  if (parts.style === 'query') {
    if (now > signedAt + (parts.expiresSeconds ?? 0) * 1000) {
      throw new AuthenticationError('RequestExpired', 'Request has expired');
    }
    if (signedAt > now + MAX_CLOCK_SKEW_MS) {
      throw new AuthenticationError('RequestTimeTooSkewed', 'Request is not valid yet');
    }
    return;
  }
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
    throw new AuthenticationError(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
}
