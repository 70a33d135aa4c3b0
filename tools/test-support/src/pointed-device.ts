import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  certificateObjectKeys,
  credentialPointerKey,
  serializeCredentialPointer,
} from '@thingcert/contracts';
import { localClients, seedPolicy, type LocalCloudEndpoints } from './local-device';
import { registerLocalDevice } from './register-local-device';

/** A thing whose credentials live the way rotation needs them: per certificate, plus a pointer. */
export interface PointedDevice {
  readonly thing: string;
  readonly bucket: string;
  /** `<thing>/current.json`. */
  readonly pointerKey: string;
  /** The policy attached to every certificate of the thing. */
  readonly policyName: string;
  /** The certificate the pointer names now. */
  readonly certificateId: string;
  readonly privateKeyPem: string;
  readonly iot: IoTClient;
  readonly s3: S3Client;
}

/** A certificate {@link rotatePointedDevice} made. */
export interface RotatedCertificate {
  readonly certificateId: string;
  readonly privateKeyPem: string;
}

/** Options of {@link rotatePointedDevice}. */
export interface RotateOptions {
  /**
   * `pointer-first` (what the provisioner and CloudFormation do: new
   * certificate ACTIVE, its objects, the pointer, then the old one INACTIVE),
   * or `deactivate-first` (the old one INACTIVE before the pointer moves: the
   * device is dropped and refused until it follows).
   * @default 'pointer-first'
   */
  readonly order?: 'pointer-first' | 'deactivate-first';
  /** Pause between the two halves (pointer, deactivation), in ms. @default 0 */
  readonly gapMs?: number;
}

let counter = 0;

/**
 * Registers a thing in the local cloud with the real SDK clients and writes
 * its credentials in the per-certificate layout with a credential pointer
 * (`@thingcert/contracts`), as the provisioner does.
 */
export async function provisionPointedDevice(
  cloud: LocalCloudEndpoints,
  options: { thing?: string; policy?: string } = {},
): Promise<PointedDevice> {
  const { iot, s3 } = localClients(cloud);
  const id = `${process.pid}-p${++counter}`;
  const thing = options.thing ?? `thing-${id}`;
  const bucket = `devices-${id}`;
  const policyName = `policy-${id}`;
  const registered = await registerLocalDevice(iot, {
    thingName: thing,
    policyName,
    policyDocument: options.policy ?? seedPolicy(cloud),
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const device = {
    thing,
    bucket,
    pointerKey: credentialPointerKey({ thingName: thing }),
    policyName,
    iot,
    s3,
  };
  await writeCertificateObjects(device, {
    certificateId: registered.certificateId,
    certificateArn: registered.certificateArn,
    certificatePem: registered.certificatePem,
    privateKeyPem: registered.privateKeyPem,
  });
  await writePointer(device, registered.certificateId, registered.certificateArn);
  return {
    ...device,
    certificateId: registered.certificateId,
    privateKeyPem: registered.privateKeyPem,
  };
}

/**
 * Rotates a {@link PointedDevice}'s certificate by the API: CreateKeysAndCertificate
 * (ACTIVE), attach the policy and the thing, write its objects, then move the
 * pointer and deactivate `previousId` in the order asked.
 */
export async function rotatePointedDevice(
  device: Omit<PointedDevice, 'certificateId' | 'privateKeyPem'>,
  previousId: string,
  options: RotateOptions = {},
): Promise<RotatedCertificate> {
  const { iot } = device;
  const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const certificate = {
    certificateId: created.certificateId!,
    certificateArn: created.certificateArn!,
    certificatePem: created.certificatePem!,
    privateKeyPem: created.keyPair!.PrivateKey!,
  };
  await iot.send(
    new AttachPolicyCommand({ policyName: device.policyName, target: certificate.certificateArn }),
  );
  await iot.send(
    new AttachThingPrincipalCommand({
      thingName: device.thing,
      principal: certificate.certificateArn,
    }),
  );
  await writeCertificateObjects(device, certificate);
  const movePointer = () =>
    writePointer(device, certificate.certificateId, certificate.certificateArn);
  const deactivate = () =>
    iot.send(new UpdateCertificateCommand({ certificateId: previousId, newStatus: 'INACTIVE' }));
  const pause = () => new Promise((resolve) => setTimeout(resolve, options.gapMs ?? 0));
  if (options.order === 'deactivate-first') {
    await deactivate();
    await pause();
    await movePointer();
  } else {
    await movePointer();
    await pause();
    await deactivate();
  }
  return { certificateId: certificate.certificateId, privateKeyPem: certificate.privateKeyPem };
}

async function writeCertificateObjects(
  device: Pick<PointedDevice, 'thing' | 'bucket' | 's3'>,
  certificate: {
    certificateId: string;
    certificateArn: string;
    certificatePem: string;
    privateKeyPem: string;
  },
): Promise<void> {
  const keys = certificateObjectKeys({ thingName: device.thing }, certificate.certificateId);
  for (const [key, body] of [
    [keys.certificate, certificate.certificatePem],
    [keys.privateKey, certificate.privateKeyPem],
  ] as const) {
    await device.s3.send(new PutObjectCommand({ Bucket: device.bucket, Key: key, Body: body }));
  }
}

async function writePointer(
  device: Pick<PointedDevice, 'thing' | 'bucket' | 's3' | 'pointerKey'>,
  certificateId: string,
  certificateArn: string,
): Promise<void> {
  const body = serializeCredentialPointer({
    version: 1,
    certificateId,
    certificateArn,
    objects: certificateObjectKeys({ thingName: device.thing }, certificateId),
    updatedAt: new Date().toISOString(),
  });
  await device.s3.send(
    new PutObjectCommand({ Bucket: device.bucket, Key: device.pointerKey, Body: body }),
  );
}
