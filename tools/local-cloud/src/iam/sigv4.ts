import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// Signature Version 4 as AWS documents it ("Create a signed AWS API request",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and S3's variant
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
// .../sigv4-query-string-auth.html): the server rebuilds the canonical request from what it
// received and compares HMACs. Kept here, not imported from the SDK, so that a signing bug in
// a client cannot hide behind the same bug in the verifier.

/** The algorithm name in the `Authorization` header and `X-Amz-Algorithm`. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** Why a SigV4 request cannot even be checked (AWS: `AuthorizationHeaderMalformed`, `IncompleteSignature`). */
export class SigV4FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigV4FormatError';
  }
}

/** The parts of a SigV4 signature, from the `Authorization` header or a presigned URL. */
export interface SigV4Parts {
  style: 'header' | 'query';
  accessKeyId: string;
  /** Credential scope: `yyyymmdd`, region, service (`aws4_request` checked). */
  scopeDate: string;
  region: string;
  service: string;
  /** Lower-case names, in the order signed. */
  signedHeaders: string[];
  signature: string;
  /** `x-amz-date` / `X-Amz-Date` (`yyyymmddThhmmssZ`). */
  amzDate: string;
  /** `X-Amz-Expires` of a presigned URL, in seconds. */
  expiresSeconds: number | undefined;
  /** `x-amz-security-token` / `X-Amz-Security-Token`. */
  securityToken: string | undefined;
}

/** A received request, as the verifier needs it. */
export interface ReceivedRequest {
  method: string;
  /** `req.url`: the path and query exactly as sent. */
  rawUrl: string;
  headers: IncomingHttpHeaders;
}

/**
 * The access key id a request claims, read leniently (the admin identity accepts any signature,
 * even a malformed one); undefined when there is none.
 */
export function claimedAccessKeyId(request: ReceivedRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith(SIGV4_ALGORITHM)) {
    return /Credential=([^/,\s]+)\//.exec(auth)?.[1];
  }
  const credential = queryParams(request.rawUrl).find(([k]) => k === 'X-Amz-Credential')?.[1];
  return credential?.split('/')[0];
}

/**
 * Parses the signature strictly.
 * @throws SigV4FormatError when a part is missing or malformed.
 */
export function parseSigV4(request: ReceivedRequest): SigV4Parts {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith(`${SIGV4_ALGORITHM} `)) {
    const fields = new Map<string, string>();
    for (const part of auth.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const amzDate = headerValue(request.headers, 'x-amz-date');
    return assemble('header', {
      credential: fields.get('Credential'),
      signedHeaders: fields.get('SignedHeaders'),
      signature: fields.get('Signature'),
      amzDate,
      expires: undefined,
      securityToken: headerValue(request.headers, 'x-amz-security-token'),
    });
  }
  const query = new Map(queryParams(request.rawUrl));
  if (query.get('X-Amz-Algorithm') !== SIGV4_ALGORITHM) {
    throw new SigV4FormatError(`Only ${SIGV4_ALGORITHM} is supported`);
  }
  const expires = query.get('X-Amz-Expires');
  return assemble('query', {
    credential: query.get('X-Amz-Credential'),
    signedHeaders: query.get('X-Amz-SignedHeaders'),
    signature: query.get('X-Amz-Signature'),
    amzDate: query.get('X-Amz-Date'),
    expires: expires === undefined ? -1 : Number(expires),
    securityToken: query.get('X-Amz-Security-Token'),
  });
}

function assemble(
  style: SigV4Parts['style'],
  raw: {
    credential: string | undefined;
    signedHeaders: string | undefined;
    signature: string | undefined;
    amzDate: string | undefined;
    expires: number | undefined;
    securityToken: string | undefined;
  },
): SigV4Parts {
  const scope = raw.credential?.split('/') ?? [];
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw new SigV4FormatError(
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" +
        `${raw.credential ?? ''}'`,
    );
  }
  if (raw.signedHeaders === undefined || raw.signedHeaders.length === 0) {
    throw new SigV4FormatError("Authorization requires 'SignedHeaders' parameter");
  }
  if (raw.signature === undefined || !/^[0-9a-f]{64}$/.test(raw.signature)) {
    throw new SigV4FormatError("Authorization requires a 'Signature' parameter of 64 hex digits");
  }
  if (raw.amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(raw.amzDate)) {
    throw new SigV4FormatError('X-Amz-Date must be in ISO 8601 basic format (yyyyMMddTHHmmssZ)');
  }
  if (scope[1] !== raw.amzDate.slice(0, 8)) {
    throw new SigV4FormatError(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope[1]}' != '${raw.amzDate.slice(0, 8)}'`,
    );
  }
  if (
    raw.expires !== undefined &&
    !(Number.isInteger(raw.expires) && raw.expires >= 1 && raw.expires <= 604_800)
  ) {
    throw new SigV4FormatError('X-Amz-Expires must be an integer from 1 to 604800 seconds');
  }
  return {
    style,
    accessKeyId: scope[0] ?? '',
    scopeDate: scope[1] ?? '',
    region: scope[2] ?? '',
    service: scope[3] ?? '',
    signedHeaders: raw.signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature: raw.signature,
    amzDate: raw.amzDate,
    expiresSeconds: raw.expires,
    securityToken: raw.securityToken,
  };
}

/** `yyyymmddThhmmssZ` as epoch milliseconds. */
export function amzDateMillis(amzDate: string): number {
  const iso = `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`;
  return Date.parse(iso);
}

/** How the canonical request is built for a service. */
export interface CanonicalOptions {
  /**
   * Every service but S3 URI-encodes the (already encoded) path once more and normalizes it;
   * S3 signs the path exactly as sent.
   */
  doubleEncodePath: boolean;
  /** The payload hash the signer used: S3's `x-amz-content-sha256`, the body's SHA-256 elsewhere. */
  payloadHash: string;
}

/** The signature the request should carry if it was signed with `secretAccessKey`. */
export function expectedSignature(
  parts: SigV4Parts,
  request: ReceivedRequest,
  secretAccessKey: string,
  options: CanonicalOptions,
): string {
  const canonicalRequest = [
    request.method,
    canonicalPath(pathOf(request.rawUrl), options.doubleEncodePath),
    canonicalQuery(request.rawUrl, parts.style === 'query'),
    ...parts.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers, name)}`),
    '',
    parts.signedHeaders.join(';'),
    options.payloadHash,
  ].join('\n');
  const scope = `${parts.scopeDate}/${parts.region}/${parts.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, parts.amzDate, scope, sha256Hex(canonicalRequest)].join(
    '\n',
  );
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, parts.scopeDate);
  for (const part of [parts.region, parts.service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** Hex SHA-256, the payload hash of a body read whole. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function pathOf(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  return q === -1 ? rawUrl : rawUrl.slice(0, q);
}

function canonicalPath(path: string, doubleEncode: boolean): string {
  if (!doubleEncode) return path.length === 0 ? '/' : path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment.length === 0 || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEncode(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(rawUrl: string, presigned: boolean): string {
  return queryParams(rawUrl)
    .filter(([key]) => !(presigned && key === 'X-Amz-Signature'))
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? compare(va, vb) : compare(ka, kb)))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Query parameters, percent-decoded, in order (a key without `=` has the value ''). */
export function queryParams(rawUrl: string): Array<[string, string]> {
  const q = rawUrl.indexOf('?');
  if (q === -1) return [];
  return rawUrl
    .slice(q + 1)
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1
        ? [decode(pair), '']
        : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
    });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` percent-encoded. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalHeaderValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
