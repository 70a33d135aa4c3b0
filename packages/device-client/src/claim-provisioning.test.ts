import { findSecretLeaks, makeKeyPair } from '@thingcert/test-support';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FakeClaimChannel, type FakeReply } from '../test/fake-identity';
import { caught, modeOf, tempDirPerTest } from '../test/temp-dir';
import { certificateIdOf } from './certificate-id';
import {
  DEFAULT_CLAIM_ACCESS_DENIED_RETRIES,
  DEFAULT_MAX_CLAIM_RETRY_DELAY_MS,
  provisionByClaim,
  type ClaimProvisioningEvent,
} from './claim-provisioning';
import { claimedCredentialFiles, readClaimedCredentials } from './claimed-credential-store';
import { ClaimRejectedError, ClaimReplyLostError, ClaimTimeoutError } from './errors';

const ca = makeKeyPair('fake-iot-ca');

/** Signs `csrPem` with the fake CA, as AWS IoT's CreateCertificateFromCsr does. */
function issue(csrPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-iot-'));
  try {
    const paths = ['csr.pem', 'ca.pem', 'ca.key', 'cert.pem'].map((name) => join(dir, name));
    const [csr, caCert, caKey, cert] = paths as [string, string, string, string];
    writeFileSync(csr, csrPem);
    writeFileSync(caCert, ca.certificatePem);
    writeFileSync(caKey, ca.privateKeyPem);
    execFileSync('openssl', [
      'x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey,
      '-set_serial', '1', '-days', '1', '-out', cert,
    ], { stdio: 'ignore' }); // prettier-ignore
    return readFileSync(cert, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const token = 'token-1';
const throttled: FakeReply = {
  accepted: false,
  payload: { statusCode: 429, errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded' },
};
const denied: FakeReply = {
  accepted: false,
  payload: { statusCode: 403, errorCode: 'AccessDenied', errorMessage: 'The hook denied it' },
};

/** The service's answers: a certificate for the CSR, then `register` for RegisterThing attempt n. */
function service(register: (attempt: number) => FakeReply = () => registered) {
  return (
    operation: 'csr' | 'register',
    payload: Record<string, unknown>,
    attempt: number,
  ): FakeReply => {
    if (operation === 'register') return register(attempt);
    const certificatePem = issue(String(payload.certificateSigningRequest));
    const certificateId = certificateIdOf(certificatePem);
    return {
      accepted: true,
      payload: { certificateId, certificatePem, certificateOwnershipToken: token },
    };
  };
}
const registered: FakeReply = {
  accepted: true,
  payload: { thingName: 'fleet-i-1', deviceConfiguration: { topic: 'dt/fleet-i-1' } },
};

describe('Function: provisionByClaim', () => {
  const workDir = tempDirPerTest('claim-provisioning-');
  const options = () => ({
    templateName: 'fleet',
    thingName: 'fleet-i-1',
    dir: join(workDir(), 'device'),
    minRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    accessDeniedRetryDelayMs: 2,
    replyTimeoutMs: 200,
  });

  it('sends only a CSR, registers with the ThingName parameter and the token, and stores the pair 0600 in 0700', async () => {
    const channel = new FakeClaimChannel(service());
    const result = await provisionByClaim(channel, options());

    const [csr, register] = channel.requests;
    expect(Object.keys(csr!.payload)).toEqual(['certificateSigningRequest']);
    expect(String(csr!.payload.certificateSigningRequest)).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST/,
    );
    expect(register!.payload).toEqual({
      templateName: 'fleet',
      certificateOwnershipToken: token,
      parameters: { ThingName: 'fleet-i-1' },
    });
    expect(channel.subscribeCalls).toEqual([
      'csr/accepted',
      'csr/rejected',
      'register/accepted',
      'register/rejected',
    ]);
    expect(result).toMatchObject({
      thingName: 'fleet-i-1',
      deviceConfiguration: { topic: 'dt/fleet-i-1' },
    });
    const key = await readFile(result.keyPath, 'utf8');
    expect(key).toContain('PRIVATE KEY');
    expect(findSecretLeaks(JSON.stringify([channel.requests, result]), [key])).toEqual([]);
    expect(await modeOf(options().dir)).toBe(0o700);
    expect(await modeOf(result.keyPath)).toBe(0o600);
    expect(await modeOf(result.certPath)).toBe(0o600);
    const files = claimedCredentialFiles(options().dir);
    expect(await readClaimedCredentials(files, 'fleet-i-1')).toMatchObject({
      certificateId: result.certificateId,
      templateName: 'fleet',
    });
  });

  it('retries a 429 with the same token and reports each retry', async () => {
    const channel = new FakeClaimChannel(
      service((attempt) => (attempt < 3 ? throttled : registered)),
    );
    const events: ClaimProvisioningEvent[] = [];
    await provisionByClaim(channel, { ...options(), onEvent: (event) => events.push(event) });

    const registers = channel.requests.filter((request) => request.operation === 'register');
    expect(registers.map((request) => request.payload.certificateOwnershipToken)).toEqual([
      token,
      token,
      token,
    ]);
    expect(events.map((event) => (event.type === 'retrying' ? event.attempt : event.type))).toEqual(
      ['certificate-created', 1, 2],
    );
    // Subscribed once: the retries reuse the reply subscriptions.
    expect(channel.subscribeCalls.filter((topic) => topic.startsWith('register'))).toHaveLength(2);
  });

  it('waits at most 10 s between throttled attempts by default, so a fleet does not leave the quota idle', async () => {
    // Only timers are faked: the fake service answers on setImmediate, the key on the thread pool.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const channel = new FakeClaimChannel(
        service((attempt) => (attempt <= 12 ? throttled : registered)),
      );
      const events: ClaimProvisioningEvent[] = [];
      const { minRetryDelayMs: _min, maxRetryDelayMs: _max, ...defaults } = options();
      let settled = false;
      const result = provisionByClaim(channel, {
        ...defaults,
        replyTimeoutMs: 60_000,
        onEvent: (event) => events.push(event),
      }).finally(() => (settled = true));
      while (!settled) {
        await new Promise((resolve) => setImmediate(resolve));
        await vi.advanceTimersByTimeAsync(500);
      }
      await result;

      const delays = events.flatMap((event) => (event.type === 'retrying' ? [event.delayMs] : []));
      expect(delays).toHaveLength(12);
      expect(DEFAULT_MAX_CLAIM_RETRY_DELAY_MS).toBe(10_000);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(1_000);
      expect(Math.max(...delays)).toBeLessThanOrEqual(DEFAULT_MAX_CLAIM_RETRY_DELAY_MS);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives up on throttling with the last rejection once the retry time is over', async () => {
    const channel = new FakeClaimChannel(service(() => throttled));
    const error = await caught(provisionByClaim(channel, { ...options(), retryForMs: 30 }));
    expect(error).toBeInstanceOf(ClaimRejectedError);
    expect(error).toMatchObject({ statusCode: 429, errorCode: 'ThrottlingException' });
  });

  it('asks again after a 403 AccessDenied (a hook that failed looks the same) and registers when the hook allows', async () => {
    const channel = new FakeClaimChannel(service((attempt) => (attempt < 2 ? denied : registered)));
    const events: ClaimProvisioningEvent[] = [];
    const result = await provisionByClaim(channel, {
      ...options(),
      onEvent: (event) => events.push(event),
    });

    expect(result.thingName).toBe('fleet-i-1');
    const registers = channel.requests.filter((request) => request.operation === 'register');
    expect(registers.map((request) => request.payload.certificateOwnershipToken)).toEqual([
      token,
      token,
    ]);
    expect(events.filter((event) => event.type === 'retrying')).toEqual([
      expect.objectContaining({ operation: 'RegisterThing', statusCode: 403, attempt: 1 }),
    ]);
  });

  it('spaces AccessDenied retries: retry n waits between half and all of n times the base', async () => {
    const channel = new FakeClaimChannel(service(() => denied));
    const events: ClaimProvisioningEvent[] = [];
    await caught(
      provisionByClaim(channel, {
        ...options(),
        accessDeniedRetryDelayMs: 40,
        onEvent: (event) => events.push(event),
      }),
    );
    const delays = events.flatMap((event) => (event.type === 'retrying' ? [event.delayMs] : []));
    expect(delays).toHaveLength(DEFAULT_CLAIM_ACCESS_DENIED_RETRIES);
    for (const [index, delay] of delays.entries()) {
      expect(delay).toBeGreaterThanOrEqual(20 * (index + 1));
      expect(delay).toBeLessThanOrEqual(40 * (index + 1));
    }
  });

  it('fails on 403 AccessDenied with the reason after its bounded retries, leaving no registration', async () => {
    const channel = new FakeClaimChannel(service(() => denied));
    const error = await caught(provisionByClaim(channel, options()));

    expect(error).toBeInstanceOf(ClaimRejectedError);
    expect(error).toMatchObject({
      operation: 'RegisterThing',
      statusCode: 403,
      errorCode: 'AccessDenied',
      errorMessage: 'The hook denied it',
    });
    expect(error.message).toBe('RegisterThing was rejected (403 AccessDenied): The hook denied it');
    expect(channel.requests.filter((request) => request.operation === 'register')).toHaveLength(
      1 + DEFAULT_CLAIM_ACCESS_DENIED_RETRIES,
    );
    const files = claimedCredentialFiles(options().dir);
    expect(await readClaimedCredentials(files, 'fleet-i-1')).toBeUndefined();
  });

  it('times out when no reply comes', async () => {
    const channel = new FakeClaimChannel(service(() => 'no-reply'));
    const error = await caught(provisionByClaim(channel, options()));
    expect(error).toBeInstanceOf(ClaimTimeoutError);
    expect(error).toMatchObject({ operation: 'RegisterThing', timeoutMs: 200 });
  });

  it('reports a lost reply with the new certificate when the connection is interrupted', async () => {
    const channel = new FakeClaimChannel(service(() => 'interrupt'));
    const events: ClaimProvisioningEvent[] = [];
    const error = await caught(
      provisionByClaim(channel, { ...options(), onEvent: (event) => events.push(event) }),
    );
    expect(error).toBeInstanceOf(ClaimReplyLostError);
    expect(error).toMatchObject({
      operation: 'RegisterThing',
      certificateId: events[0]?.type === 'certificate-created' ? events[0].certificateId : 'none',
    });
  });

  it('refuses a certificate that is not for its key', async () => {
    const other = makeKeyPair('not-ours');
    const channel = new FakeClaimChannel((operation) =>
      operation === 'csr'
        ? {
            accepted: true,
            payload: {
              certificateId: certificateIdOf(other.certificatePem),
              certificatePem: other.certificatePem,
              certificateOwnershipToken: token,
            },
          }
        : registered,
    );
    const error = await caught(provisionByClaim(channel, options()));
    expect(error.name).toBe('CertificateKeyMismatchError');
    expect(channel.requests.map((request) => request.operation)).toEqual(['csr']);
  });

  it('refuses to go on when the broker refuses the reply subscriptions', async () => {
    const channel = new FakeClaimChannel(service());
    channel.grantedQos = 128;
    const error = await caught(provisionByClaim(channel, options()));
    expect(error).toBeInstanceOf(ClaimRejectedError);
    expect(error.message).toMatch(
      /refused the subscription to the CreateCertificateFromCsr replies/,
    );
    expect(channel.requests).toEqual([]);
  });
});
