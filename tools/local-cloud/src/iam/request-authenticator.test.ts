import { describe, expect, it } from 'vitest';
import { IdentityRegistry } from './identity-registry';
import {
  authenticate,
  AuthenticationError,
  type AuthenticationFailure,
} from './request-authenticator';
import { expectedSignature, parseSigV4, type ReceivedRequest } from './sigv4';

const SIGNED_AT = Date.parse('2026-03-01T12:00:00Z');

/** `yyyymmddThhmmssZ` of an epoch-milliseconds time. */
const amzDate = (at: number) => new Date(at).toISOString().replace(/[-:]|\.\d{3}/g, '');

/** A request signed as the SDK would, for `credentials`. */
function signed(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  options: { region?: string; service?: string; at?: number } = {},
): ReceivedRequest {
  const date = amzDate(options.at ?? SIGNED_AT);
  const headers: Record<string, string> = { host: '127.0.0.1:1', 'x-amz-date': date };
  if (credentials.sessionToken !== undefined)
    headers['x-amz-security-token'] = credentials.sessionToken;
  const signedHeaders = Object.keys(headers).sort().join(';');
  const scope = `${credentials.accessKeyId}/${date.slice(0, 8)}/${options.region ?? 'us-east-1'}/${options.service ?? 'iot'}/aws4_request`;
  const request: ReceivedRequest = {
    method: 'GET',
    rawUrl: '/things',
    headers: {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=${signedHeaders}, Signature=${'0'.repeat(64)}`,
    },
  };
  const signature = expectedSignature(parseSigV4(request), request, credentials.secretAccessKey, {
    doubleEncodePath: true,
    payloadHash: 'body-hash',
  });
  request.headers.authorization = String(request.headers.authorization).replace(
    '0'.repeat(64),
    signature,
  );
  return request;
}

async function setup(durationSeconds?: number) {
  const registry = new IdentityRegistry({ accountId: '000000000000', region: 'us-east-1' });
  await registry.putRole({ roleName: 'r' });
  const session = await registry.assumeRole({ roleName: 'r', sessionName: 's1', durationSeconds });
  const context = (now: number) => ({
    registry,
    service: 'iot',
    region: 'us-east-1',
    doubleEncodePath: true,
    payloadHash: () => 'body-hash',
    now,
  });
  return { session, context };
}

function failureOf(run: () => unknown): AuthenticationFailure | 'none' {
  try {
    run();
    return 'none';
  } catch (error) {
    if (error instanceof AuthenticationError) return error.failure;
    throw error;
  }
}

describe('Function: authenticate', () => {
  it("returns the session's principal for a correctly signed request", async () => {
    const { session, context } = await setup();
    const result = authenticate(signed(session), context(SIGNED_AT + 1000));
    expect(result.principal).toMatchObject({
      kind: 'role-session',
      assumedRoleArn: session.assumedRoleArn,
    });
    expect(result).toMatchObject({ style: 'header', signatureAgeMs: 1000 });
  });

  it('refuses a request more than 15 minutes from the clock, another region or service, and an expired session', async () => {
    const { session, context } = await setup();
    expect(failureOf(() => authenticate(signed(session), context(SIGNED_AT + 16 * 60_000)))).toBe(
      'RequestTimeTooSkewed',
    );
    expect(
      failureOf(() => authenticate(signed(session, { region: 'eu-west-1' }), context(SIGNED_AT))),
    ).toBe('WrongCredentialScope');
    expect(
      failureOf(() => authenticate(signed(session, { service: 's3' }), context(SIGNED_AT))),
    ).toBe('WrongCredentialScope');
    const short = await setup(900);
    const expiredAt = short.session.expiration!.getTime();
    const late = signed(short.session);
    expect(
      failureOf(() => authenticate(late, short.context(Math.max(SIGNED_AT, expiredAt)))),
    ).not.toBe('none');
  });

  it('treats a key of the minted form that nobody registered as unknown, and any other key as the admin', async () => {
    const { context } = await setup();
    expect(
      failureOf(() =>
        authenticate(
          signed({ accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x' }),
          context(SIGNED_AT),
        ),
      ),
    ).toBe('UnknownAccessKey');
    expect(
      authenticate(signed({ accessKeyId: 'local', secretAccessKey: 'x' }), context(SIGNED_AT))
        .principal,
    ).toEqual({ kind: 'admin' });
  });
});
