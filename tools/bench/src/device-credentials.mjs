// Device certificates for the benchmarks, registered in the local cloud by
// @thingcert/test-support: RSA-2048 from CreateKeysAndCertificate, EC P-256
// from CreateCertificateFromCsr. Each gets an allow-all policy so the local
// broker (which evaluates IoT policies) accepts it; mosquitto only checks the CA.
import { IoTClient } from '@aws-sdk/client-iot';
import { registerLocalDevice } from '@thingcert/test-support';
import { join } from 'node:path';

const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
});

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
  const device = await registerLocalDevice(iotClient, {
    keyMode: kind === 'rsa' ? 'server' : 'csr',
    policyDocument: ALLOW_ALL,
    dir: join(dir, name),
  });
  return { ...device.files, caPath: cloud.mqtt.caPath, certificateArn: device.certificateArn };
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
