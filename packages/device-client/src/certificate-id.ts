import { createHash, X509Certificate } from 'node:crypto';

/**
 * AWS IoT's id of a certificate: the SHA-256 of its DER encoding, 64 lowercase
 * hex digits (what `CreateKeysAndCertificate` returns as `certificateId`). A
 * device can compute it from the PEM alone, so it can check that a certificate
 * is the one a pointer names, and log which one it uses.
 *
 * @throws Error when `certificatePem` is not a PEM X.509 certificate
 * @example
 * ```ts
 * certificateIdOf(await readFile('device.pem.crt', 'utf8')); // '51c6ed8f…' (64 hex)
 * ```
 */
export function certificateIdOf(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}

/** `true` for a string shaped like an AWS IoT certificate id (safe as a file name). */
export function isCertificateId(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
