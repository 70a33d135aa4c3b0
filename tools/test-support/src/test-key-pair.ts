import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate and its key (EC P-256), made with openssl. */
export interface TestKeyPair {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** Creates a fresh key pair; tests never ship or reuse real keys. */
export function makeKeyPair(commonName = 'thingcert-test'): TestKeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'thingcert-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        `/CN=${commonName}`,
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    return { certificatePem: readFileSync(cert, 'utf8'), privateKeyPem: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
