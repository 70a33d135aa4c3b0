import 'reflect-metadata';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { generateKeyAndCsr } from './generate-key-and-csr';

describe('Function: generateKeyAndCsr', () => {
  for (const [algorithm, keyType] of [
    ['EC_P256', 'ec'],
    ['RSA_2048', 'rsa'],
  ] as const) {
    it(`makes a ${algorithm} key and a CSR that an independent parser verifies`, async () => {
      const { csrPem, privateKeyPem, publicKeyPem } = await generateKeyAndCsr(
        'sensor-1',
        algorithm,
      );

      const csr = new Pkcs10CertificateRequest(csrPem);
      expect(await csr.verify()).toBe(true);
      expect(csr.subject).toBe('CN=sensor-1');
      const privateKey = createPrivateKey(privateKeyPem);
      expect(privateKey.asymmetricKeyType).toBe(keyType);
      const fromCsr = createPublicKey({
        key: Buffer.from(csr.publicKey.rawData),
        format: 'der',
        type: 'spki',
      });
      expect(fromCsr.export({ type: 'spki', format: 'pem' })).toBe(publicKeyPem);
      expect(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })).toBe(
        publicKeyPem,
      );
    });
  }

  it('encodes a 128-character thing name (long-form DER lengths)', async () => {
    const name = 'a'.repeat(128);
    const { csrPem } = await generateKeyAndCsr(name, 'EC_P256');
    const csr = new Pkcs10CertificateRequest(csrPem);
    expect(csr.subject).toBe(`CN=${name}`);
    expect(await csr.verify()).toBe(true);
  });
});
