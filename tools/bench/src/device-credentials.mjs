// Device certificates for the benchmarks, issued by the local cloud: RSA-2048
// from CreateKeysAndCertificate, EC P-256 from CreateCertificateFromCsr with a
// CSR made by openssl. Each gets an allow-all policy so the local broker
// (which evaluates IoT policies) accepts it; mosquitto only checks the CA.
import {
  AttachPolicyCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
let policyReady;

/** An IoT client for the local cloud (dummy credentials, loopback endpoint). */
export function iotClientFor(cloud) {
  return new IoTClient({
    endpoint: cloud.iotEndpoint,
    region: cloud.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Issues a certificate and writes `cert.pem`/`key.pem` (0600) under `dir/name` (0700).
 * @param {'rsa' | 'ec'} kind
 * @returns {Promise<{ certPath: string, keyPath: string, caPath: string, certificateArn: string }>}
 */
export async function issueDeviceCredentials(cloud, iotClient, dir, name, kind = 'rsa') {
  const target = join(dir, name);
  await mkdir(target, { recursive: true, mode: 0o700 });
  let certificatePem;
  let keyPem;
  let certificateArn;
  if (kind === 'rsa') {
    const created = await iotClient.send(
      new CreateKeysAndCertificateCommand({ setAsActive: true }),
    );
    certificatePem = created.certificatePem;
    keyPem = created.keyPair.PrivateKey;
    certificateArn = created.certificateArn;
  } else {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(join(target, 'key.pem'), keyPem, { mode: 0o600 });
    const { stdout: csr } = await run('openssl', [
      'req',
      '-new',
      '-key',
      join(target, 'key.pem'),
      '-subj',
      `/CN=${name}`,
    ]);
    const created = await iotClient.send(
      new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr, setAsActive: true }),
    );
    certificatePem = created.certificatePem;
    certificateArn = created.certificateArn;
  }
  await writeFile(join(target, 'cert.pem'), certificatePem, { mode: 0o600 });
  await writeFile(join(target, 'key.pem'), keyPem, { mode: 0o600 });
  policyReady ??= new WeakMap();
  if (!policyReady.has(cloud)) {
    policyReady.set(
      cloud,
      iotClient.send(
        new CreatePolicyCommand({
          policyName: 'bench-allow-all',
          policyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
          }),
        }),
      ),
    );
  }
  await policyReady.get(cloud);
  await iotClient.send(
    new AttachPolicyCommand({ policyName: 'bench-allow-all', target: certificateArn }),
  );
  return {
    certPath: join(target, 'cert.pem'),
    keyPath: join(target, 'key.pem'),
    caPath: cloud.mqtt.caPath,
    certificateArn,
  };
}

/** `--cert --key --ca` for these credentials: the runner and the raw script take the same flags. */
export function tlsFlags(creds) {
  return ['--cert', creds.certPath, '--key', creds.keyPath, '--ca', creds.caPath];
}

/**
 * Arguments that start the device-runner bundle with these credentials against
 * a broker on localhost; callers append protocol, topic and count flags.
 */
export function runnerArgs(ctx, creds, port, thing) {
  return [
    join(ctx.root, 'apps/device-runner/dist/bundle/device-runner.mjs'),
    'run',
    ...tlsFlags(creds),
    '--endpoint',
    'localhost',
    '--port',
    String(port),
    '--thing',
    thing,
  ];
}
