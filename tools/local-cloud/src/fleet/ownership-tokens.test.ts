import { beforeEach, describe, expect, it } from 'vitest';
import { IotRegistry } from '../iot-registry';
import {
  addPendingCertificate,
  addPolicy,
  TEST_ARN_PREFIX as PREFIX,
} from '../../test/registry-fixtures';
import { OWNERSHIP_TOKEN_LIFETIME_MS, OwnershipTokens } from './ownership-tokens';

let registry: IotRegistry;
let now: number;
let tokens: OwnershipTokens;

function pendingCertificate(id: string): void {
  addPendingCertificate(registry, id);
}

beforeEach(async () => {
  registry = await IotRegistry.open(undefined);
  now = 1_000_000;
  tokens = new OwnershipTokens(registry, () => now);
});

describe('Class: OwnershipTokens', () => {
  it('redeems a token for its certificate while it is pending, and stores only a hash', () => {
    pendingCertificate('c1');
    const token = tokens.issue('c1');
    expect(tokens.certificateFor(token)).toBe('c1');
    expect(JSON.stringify([...registry.ownershipTokens.values()])).not.toContain(token);
    registry.certificates.get('c1')!.status = 'ACTIVE';
    expect(() => tokens.certificateFor(token)).toThrow(
      expect.objectContaining({ statusCode: 400, errorCode: 'InvalidCertificateOwnershipToken' }),
    );
  });

  it("answers an empty token with AWS's message, and refuses unknown ones", () => {
    expect(() => tokens.certificateFor('')).toThrow('Certificate ownership token cannot be empty.');
    expect(() => tokens.certificateFor(undefined)).toThrow('cannot be empty');
    expect(() => tokens.certificateFor('made-up')).toThrow('invalid, expired or already used');
  });

  it('refuses a token after its hour and then deletes its still-pending, unattached certificate', () => {
    pendingCertificate('c1');
    pendingCertificate('c2');
    const token = tokens.issue('c1');
    tokens.issue('c2');
    // An attachment keeps the certificate, as AWS documents ("has not been attached to a policy or a thing").
    addPolicy(registry, 'p', [`${PREFIX}:cert/c2`]);
    now += OWNERSHIP_TOKEN_LIFETIME_MS - 1;
    expect(tokens.expire()).toEqual([]);
    expect(tokens.certificateFor(token)).toBe('c1');
    now += 1;
    expect(() => tokens.certificateFor(token)).toThrow('invalid, expired or already used');
    expect(tokens.expire()).toEqual(['c1']);
    expect(registry.certificates.has('c1')).toBe(false);
    expect(registry.certificates.has('c2')).toBe(true);
    expect(registry.ownershipTokens.size).toBe(0);
  });

  it('keeps a registered certificate when its token expires', () => {
    pendingCertificate('c1');
    tokens.issue('c1');
    registry.certificates.get('c1')!.status = 'ACTIVE';
    now += OWNERSHIP_TOKEN_LIFETIME_MS;
    expect(tokens.expire()).toEqual([]);
    expect(registry.certificates.has('c1')).toBe(true);
  });
});
