import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createHash,
  createPublicKey,
  generateKeyPair as generateKeyPairCallback,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

type CryptoKey = webcrypto.CryptoKey;
type BufferSource = webcrypto.BufferSource;

// @peculiar/x509 needs a WebCrypto provider; node's is complete enough.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const generateKeyPair = promisify(generateKeyPairCallback);

/** Certificates issued by AWS IoT (and by us) expire at the end of 2049. */
export const IOT_CERTIFICATE_NOT_AFTER = new Date('2049-12-31T23:59:59Z');
const CA_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate the local CA issued. */
export interface IssuedCertificate {
  /** PEM text. */
  pem: string;
  /** SHA-256 hex of the DER encoding: the IoT `certificateId`. */
  certificateId: string;
}

/** Why a CSR was refused; the control plane turns it into `InvalidRequestException`. */
export class CsrRejectedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CsrRejectedError';
  }
}

/** SHA-256 hex of a certificate's DER bytes (AWS IoT's certificate id). */
export function certificateIdOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** SHA-256 hex of the DER inside a PEM certificate. */
export function certificateIdOfPem(pem: string): string {
  return certificateIdOf(new Uint8Array(new x509.X509Certificate(pem).rawData));
}

/**
 * The local certificate authority: signs device certificates and the broker's
 * server certificate, and is what `THINGCERT_CA_FILE` points at.
 * ECDSA P-256 keeps startup fast; device keys are still RSA-2048 as AWS makes them.
 */
export class CertificateAuthority {
  private constructor(
    /** PEM of the CA certificate. */
    readonly certificatePem: string,
    /** Path of the CA certificate file. */
    readonly certificatePath: string,
    private readonly certificate: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
  ) {}

  /** Loads the CA from `dir`, creating it (key file 0600 in a 0700 dir) when absent. */
  static async open(dir: string): Promise<CertificateAuthority> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const certificatePath = join(dir, 'ca.pem');
    const keyPath = join(dir, 'ca-key.pem');
    const existing = await readPair(certificatePath, keyPath);
    if (existing !== undefined) {
      const key = await webcrypto.subtle.importKey(
        'pkcs8',
        pemToDer(existing.keyPem),
        CA_ALGORITHM,
        false,
        ['sign'],
      );
      return new CertificateAuthority(
        existing.certPem,
        certificatePath,
        new x509.X509Certificate(existing.certPem),
        key,
      );
    }
    const keys = await webcrypto.subtle.generateKey(CA_ALGORITHM, true, ['sign', 'verify']);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: 'CN=thingcert local CA, O=thingcert',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date('2059-12-31T23:59:59Z'),
      keys,
      signingAlgorithm: CA_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    const certPem = certificate.toString('pem') + '\n';
    await writeFile(keyPath, derToPem(new Uint8Array(pkcs8), 'PRIVATE KEY'), { mode: 0o600 });
    await writeFile(certificatePath, certPem, { mode: 0o644 });
    return new CertificateAuthority(certPem, certificatePath, certificate, keys.privateKey);
  }

  /**
   * CreateKeysAndCertificate: a fresh RSA-2048 key pair and a certificate with
   * subject `CN=AWS IoT Certificate` valid until 2049, as AWS IoT issues.
   */
  async createKeysAndCertificate(): Promise<
    IssuedCertificate & { publicKeyPem: string; privateKeyPem: string }
  > {
    const { publicKey, privateKey } = await generateKeyPair('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const spki = createPublicKey(publicKey).export({ type: 'spki', format: 'der' });
    const issued = await this.issue(new Uint8Array(spki), 'CN=AWS IoT Certificate', 'client');
    return { ...issued, publicKeyPem: publicKey, privateKeyPem: privateKey };
  }

  /**
   * CreateCertificateFromCsr: verifies the CSR's signature and signs its key
   * (RSA >= 2048 bits, or EC P-256/P-384/P-521) with the CSR's subject.
   * @throws CsrRejectedError for anything else.
   */
  async signCsr(csrPem: string): Promise<IssuedCertificate> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (error) {
      throw new CsrRejectedError('The certificate signing request is not valid PEM/DER', {
        cause: error,
      });
    }
    const spki = new Uint8Array(csr.publicKey.rawData);
    let details: { type: string | undefined; bits?: number; curve?: string };
    try {
      const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      details = {
        type: key.asymmetricKeyType,
        bits: key.asymmetricKeyDetails?.modulusLength,
        curve: key.asymmetricKeyDetails?.namedCurve,
      };
    } catch (error) {
      throw new CsrRejectedError('The public key in the certificate signing request is not valid', {
        cause: error,
      });
    }
    // AWS's key rules for CreateCertificateFromCsr, copied from its documentation on purpose
    // (the local cloud models AWS, not thingcert: see iot/request-validation.ts).
    const supported =
      (details.type === 'rsa' && (details.bits ?? 0) >= 2048) ||
      (details.type === 'ec' &&
        ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.curve ?? ''));
    if (!supported) {
      throw new CsrRejectedError(
        `Unsupported key in certificate signing request (${details.type ?? 'unknown'}` +
          `${details.bits === undefined ? '' : ` ${details.bits} bits`}` +
          `${details.curve === undefined ? '' : ` ${details.curve}`}): use RSA >= 2048 or EC P-256/P-384/P-521`,
      );
    }
    let valid: boolean;
    try {
      valid = await csr.verify();
    } catch (error) {
      throw new CsrRejectedError('The certificate signing request signature cannot be verified', {
        cause: error,
      });
    }
    if (!valid) {
      throw new CsrRejectedError('The certificate signing request signature is not valid');
    }
    const subject = csr.subject.length > 0 ? csr.subject : 'CN=AWS IoT Certificate';
    return this.issue(spki, subject, 'client');
  }

  /** A server certificate for `localhost`, 127.0.0.1 and ::1, with its PKCS#8 key. */
  async createServerCredentials(): Promise<{ certPem: string; keyPem: string }> {
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const issued = await this.issue(spki, 'CN=localhost', 'server');
    const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    return { certPem: issued.pem, keyPem: derToPem(pkcs8, 'PRIVATE KEY') };
  }

  private async issue(
    spki: Uint8Array,
    subject: string,
    usage: 'client' | 'server',
  ): Promise<IssuedCertificate> {
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(
        usage === 'client'
          ? [x509.ExtendedKeyUsage.clientAuth]
          : [x509.ExtendedKeyUsage.serverAuth],
      ),
      await x509.SubjectKeyIdentifierExtension.create(spki),
      await x509.AuthorityKeyIdentifierExtension.create(this.certificate),
    ];
    if (usage === 'server') {
      extensions.push(
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
      );
    }
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: this.certificate.subjectName,
      notBefore: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000),
      notAfter: usage === 'client' ? IOT_CERTIFICATE_NOT_AFTER : new Date('2049-12-31T23:59:59Z'),
      publicKey: spki as BufferSource,
      signingKey: this.signingKey,
      signingAlgorithm: CA_ALGORITHM,
      extensions,
    });
    const der = new Uint8Array(certificate.rawData);
    return { pem: certificate.toString('pem') + '\n', certificateId: certificateIdOf(der) };
  }
}

async function readPair(
  certPath: string,
  keyPath: string,
): Promise<{ certPem: string; keyPem: string } | undefined> {
  try {
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  // A positive INTEGER: clear the top bit so DER needs no sign byte.
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(
    Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'),
  );
}

function derToPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
