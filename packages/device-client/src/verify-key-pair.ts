import { createPrivateKey, X509Certificate } from 'node:crypto';
import { CertificateKeyMismatchError, CredentialsError } from './errors';

/**
 * Checks that `certificatePem` and `privateKeyPem` belong to the same key pair,
 * so a device never tries (and fails obscurely in the TLS handshake) with a
 * certificate from one provisioning and a key from another. Messages name the
 * files, never their content.
 *
 * @param names labels for error messages (file paths or S3 keys)
 */
export function verifyKeyPair(
  certificatePem: string,
  privateKeyPem: string,
  names: { certificate: string; privateKey: string },
): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (error) {
    // The parser's message never quotes the input, so it is safe as a cause.
    throw new CredentialsError(
      `${names.certificate} is not a PEM X.509 certificate`,
      { reason: 'invalid-pem', location: names.certificate },
      { cause: error },
    );
  }
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    // No cause: OpenSSL errors about a key are not worth the risk of echoing it.
    throw new CredentialsError(`${names.privateKey} is not a PEM private key`, {
      reason: 'invalid-pem',
      location: names.privateKey,
    });
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new CertificateKeyMismatchError(
      `Certificate ${names.certificate} does not match private key ${names.privateKey}: ` +
        'they come from different key pairs. Download both from the same provisioning ' +
        '(same thing, same certificate id).',
    );
  }
}
