import { describe, expect, it } from 'vitest';
import { redactPem } from './redact-pem';

const PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----';
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIDWTCCAkGgAw\n-----END CERTIFICATE-----';

describe('Function: redactPem', () => {
  it('replaces a PEM block and keeps the text around it', () => {
    expect(redactPem(`bad key ${PRIVATE_KEY} trailing`)).toBe('bad key [redacted PEM] trailing');
  });

  it('replaces each of several blocks separately, keeping the text between them', () => {
    const text = `cert ${CERTIFICATE}\nand key ${PRIVATE_KEY}\nend`;

    expect(redactPem(text)).toBe('cert [redacted PEM]\nand key [redacted PEM]\nend');
  });

  it('redacts a block cut off before its END line up to the end of the text', () => {
    const truncated = `message: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nqhkiG9w0BAQ`;

    const redacted = redactPem(truncated);

    expect(redacted).toBe('message: [redacted PEM]');
    expect(redacted).not.toContain('MIIEpAIBAAKCAQEA');
  });

  it('recognises the PEM labels AWS IoT and node:crypto write', () => {
    for (const label of [
      'EC PRIVATE KEY',
      'PUBLIC KEY',
      'CERTIFICATE REQUEST',
      'RSA PRIVATE KEY',
    ]) {
      const block = `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----`;
      expect(redactPem(`x ${block} y`)).toBe('x [redacted PEM] y');
    }
  });

  it('leaves text without PEM blocks unchanged, line breaks included', () => {
    const text = 'ThrottlingException: Rate exceeded\nat step createCertificate -----';

    expect(redactPem(text)).toBe(text);
  });

  it('gives the same answer when called again (no regular-expression state carried over)', () => {
    const text = `a ${PRIVATE_KEY} b`;

    expect(redactPem(text)).toBe(redactPem(text));
  });
});
