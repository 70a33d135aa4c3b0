/** PEM private keys in any of the encodings OpenSSL and AWS produce. */
const PRIVATE_KEY_PEM = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;
/** A long run of base64, as the body of a PEM key would leave behind. */
const BASE64_RUN = /[A-Za-z0-9+/]{200,}={0,2}/;

/**
 * Returns the lines of `text` that look like private-key material: a PEM
 * header, or the body of a key given in `knownSecrets` (whole or any 40-char
 * slice of its base64), so a test can assert none leaked into logs or output.
 */
export function findSecretLeaks(text: string, knownSecrets: readonly string[] = []): string[] {
  const probes = knownSecrets.flatMap((secret) => {
    const body = secret.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const slices: string[] = [];
    // Every offset, so a leaked fragment is caught wherever it was cut.
    for (let i = 0; i + 40 <= body.length; i++) slices.push(body.slice(i, i + 40));
    return slices;
  });
  return text.split(/\r?\n/).filter((line) => {
    if (PRIVATE_KEY_PEM.test(line) || BASE64_RUN.test(line)) return true;
    const flat = line.replace(/\\n/g, '');
    return probes.some((probe) => flat.includes(probe));
  });
}
