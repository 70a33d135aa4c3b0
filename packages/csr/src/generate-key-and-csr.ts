import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyAlgorithm } from '@thingcert/contracts';
import {
  bitString,
  contextConstructed,
  integer,
  nullValue,
  objectIdentifier,
  sequence,
  set,
  toPem,
  utf8String,
} from './der';

/** A key pair and a CSR for it, all PEM. `privateKeyPem` is secret. */
export interface KeyAndCsr {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly csrPem: string;
}

const generate = promisify(generateKeyPair);

const OID_COMMON_NAME = '2.5.4.3';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

async function newKeyPair(
  algorithm: KeyAlgorithm,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (algorithm) {
    case 'EC_P256':
      return generate('ec', { namedCurve: 'prime256v1' });
    case 'RSA_2048':
      return generate('rsa', { modulusLength: 2048 });
  }
}

/**
 * Generates a key pair in this process and a PKCS #10 CSR signed with it, with
 * subject `CN=<commonName>`, for `CreateCertificateFromCsr`. EC P-256 gives a
 * smaller certificate and a faster TLS handshake on the device than RSA-2048.
 *
 * @example
 * ```ts
 * const { csrPem, privateKeyPem } = await generateKeyAndCsr('sensor-1', 'EC_P256');
 * ```
 */
export async function generateKeyAndCsr(
  commonName: string,
  algorithm: KeyAlgorithm,
): Promise<KeyAndCsr> {
  const { privateKey, publicKey } = await newKeyPair(algorithm);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = sequence(
    integer(0),
    sequence(set(sequence(objectIdentifier(OID_COMMON_NAME), utf8String(commonName)))),
    spki,
    contextConstructed(0),
  );
  const signatureAlgorithm =
    algorithm === 'EC_P256'
      ? sequence(objectIdentifier(OID_ECDSA_WITH_SHA256))
      : sequence(objectIdentifier(OID_SHA256_WITH_RSA), nullValue());
  // Node signs EC keys with a DER-encoded ECDSA-Sig-Value by default, which is
  // what X.509 expects; RSA gets PKCS #1 v1.5.
  const signature = sign('sha256', info, privateKey);
  const csr = sequence(info, signatureAlgorithm, bitString(signature));
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    csrPem: toPem('CERTIFICATE REQUEST', csr),
  };
}
