import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { credentialObjectKeys, type KeyMode } from '@thingcert/contracts';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Where the device's key comes from: the provisioner's `KeyMode`. `server`
 * lets the cloud make an RSA-2048 key (CreateKeysAndCertificate); `csr` makes
 * an EC P-256 key here and sends only its CSR (CreateCertificateFromCsr).
 */
export type LocalDeviceKeyMode = KeyMode;

/** What {@link registerLocalDevice} creates besides the certificate, and where it writes it. */
export interface RegisterLocalDeviceOptions {
  /** @default 'server' */
  readonly keyMode?: LocalDeviceKeyMode;
  /** Whether the certificate is ACTIVE (an inactive one is refused by the broker). @default true */
  readonly active?: boolean;
  /** A thing to create and attach the certificate to. @default no thing */
  readonly thingName?: string;
  /** A policy document to create and attach to the certificate. @default no policy */
  readonly policyDocument?: string;
  /** Name of that policy. @default `policy-` and the first 16 characters of the certificate id */
  readonly policyName?: string;
  /**
   * Writes the certificate and key into `bucket` (created) at the keys the contracts
   * layout gives `thingName` under `keyPrefix`: where the device runner fetches them.
   * @default nothing written to S3
   */
  readonly s3?: {
    readonly client: S3Client;
    readonly bucket: string;
    readonly thingName: string;
    /** @default '' */
    readonly keyPrefix?: string;
  };
  /** Writes `cert.pem` and `key.pem` (0600) into this directory, created 0700. @default nothing written to disk */
  readonly dir?: string;
}

/** A certificate registered in the local cloud, with its key and what was made around it. */
export interface RegisteredLocalDevice {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** The attached policy; `undefined` when no `policyDocument` was given. */
  readonly policyName: string | undefined;
  /** The files written into `dir`; `undefined` when no `dir` was given. */
  readonly files: { readonly certPath: string; readonly keyPath: string } | undefined;
}

/**
 * Registers a device in the local cloud (`@thingcert/local-cloud`) with the real
 * SDK clients: a certificate, and as asked a thing and a policy attached to it,
 * its credentials in S3 and on disk. The one way every test and benchmark makes
 * a device, so they all exercise the same calls.
 *
 * @example
 * const device = await registerLocalDevice(iot, {
 *   thingName: 'sensor-1',
 *   policyDocument: seedPolicy(cloud),
 *   dir: join(tmp, 'sensor-1'),
 * });
 * // device.files.certPath, device.files.keyPath, device.certificateArn
 */
export async function registerLocalDevice(
  iot: IoTClient,
  options: RegisterLocalDeviceOptions = {},
): Promise<RegisteredLocalDevice> {
  const setAsActive = options.active ?? true;
  const { certificateId, certificateArn, certificatePem, privateKeyPem } =
    options.keyMode === 'csr'
      ? await certificateFromCsr(iot, setAsActive, options.thingName ?? 'thingcert-local-device')
      : await certificateWithServerKey(iot, setAsActive);

  if (options.thingName !== undefined) {
    await iot.send(new CreateThingCommand({ thingName: options.thingName }));
    await iot.send(
      new AttachThingPrincipalCommand({ thingName: options.thingName, principal: certificateArn }),
    );
  }
  let policyName: string | undefined;
  if (options.policyDocument !== undefined) {
    policyName = options.policyName ?? `policy-${certificateId.slice(0, 16)}`;
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: options.policyDocument }));
    await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
  }
  if (options.s3 !== undefined) {
    const { client, bucket, thingName, keyPrefix } = options.s3;
    const keys = credentialObjectKeys({ thingName, keyPrefix });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: keys.certificate,
        Body: certificatePem,
      }),
    );
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: keys.privateKey,
        Body: privateKeyPem,
      }),
    );
  }
  let files: RegisteredLocalDevice['files'];
  if (options.dir !== undefined) {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    files = { certPath: join(options.dir, 'cert.pem'), keyPath: join(options.dir, 'key.pem') };
    await writeFile(files.certPath, certificatePem, { mode: 0o600 });
    await writeFile(files.keyPath, privateKeyPem, { mode: 0o600 });
  }
  return { certificateId, certificateArn, certificatePem, privateKeyPem, policyName, files };
}

type IssuedCertificate = Pick<
  RegisteredLocalDevice,
  'certificateId' | 'certificateArn' | 'certificatePem' | 'privateKeyPem'
>;

async function certificateWithServerKey(
  iot: IoTClient,
  setAsActive: boolean,
): Promise<IssuedCertificate> {
  const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive }));
  return {
    certificateId: created.certificateId!,
    certificateArn: created.certificateArn!,
    certificatePem: created.certificatePem!,
    privateKeyPem: created.keyPair!.PrivateKey!,
  };
}

async function certificateFromCsr(
  iot: IoTClient,
  setAsActive: boolean,
  commonName: string,
): Promise<IssuedCertificate> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // openssl reads the key from a file: one in a fresh 0700 directory, removed at once.
  const scratch = await mkdtemp(join(tmpdir(), 'thingcert-csr-'));
  let certificateSigningRequest: string;
  try {
    const keyPath = join(scratch, 'key.pem');
    await writeFile(keyPath, privateKeyPem, { mode: 0o600 });
    ({ stdout: certificateSigningRequest } = await run('openssl', [
      'req',
      '-new',
      '-key',
      keyPath,
      '-subj',
      `/CN=${commonName}`,
    ]));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const created = await iot.send(
    new CreateCertificateFromCsrCommand({ certificateSigningRequest, setAsActive }),
  );
  return {
    certificateId: created.certificateId!,
    certificateArn: created.certificateArn!,
    certificatePem: created.certificatePem!,
    privateKeyPem,
  };
}
