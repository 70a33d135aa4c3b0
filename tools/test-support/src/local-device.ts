import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
/**
 * The parts of a running local cloud (`@thingcert/local-cloud`) these helpers
 * use; structural, so test-support does not depend on the local cloud's build.
 */
export interface LocalCloudEndpoints {
  readonly region: string;
  readonly accountId: string;
  readonly iotEndpoint: string;
  readonly s3Endpoint: string;
}

/** A thing provisioned in the local cloud the way the seed's custom resource does it. */
export interface LocalDevice {
  readonly thing: string;
  readonly bucket: string;
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly iot: IoTClient;
  readonly s3: S3Client;
}

/** Policy of the seed: connect as the thing, pub/sub under `test/`. */
export function seedPolicy(cloud: LocalCloudEndpoints, topicPattern = 'test/*'): string {
  const arn = `arn:aws:iot:${cloud.region}:${cloud.accountId}`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: `${arn}:client/\${iot:Connection.Thing.ThingName}`,
      },
      {
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: `${arn}:topic/${topicPattern}`,
      },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${arn}:topicfilter/${topicPattern}` },
    ],
  });
}

let counter = 0;

/** Local cloud clients with the dummy credentials it accepts. */
export function localClients(cloud: LocalCloudEndpoints): { iot: IoTClient; s3: S3Client } {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  return {
    iot: new IoTClient({ endpoint: cloud.iotEndpoint, region: cloud.region, credentials }),
    s3: new S3Client({
      endpoint: cloud.s3Endpoint,
      region: cloud.region,
      credentials,
      forcePathStyle: true,
    }),
  };
}

/**
 * CreateKeysAndCertificate, CreateThing, CreatePolicy, AttachPolicy,
 * AttachThingPrincipal, and the cert/key into `<bucket>/<thing>/` — with the
 * real SDK clients against the local cloud.
 */
export async function provisionLocalDevice(
  cloud: LocalCloudEndpoints,
  options: { policy?: string; thing?: string } = {},
): Promise<LocalDevice> {
  const { iot, s3 } = localClients(cloud);
  const id = `${process.pid}-${++counter}`;
  const thing = options.thing ?? `thing-${id}`;
  const bucket = `devices-${id}`;
  const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  const certificateArn = created.certificateArn!;
  await iot.send(new CreateThingCommand({ thingName: thing }));
  const policyName = `policy-${id}`;
  await iot.send(
    new CreatePolicyCommand({ policyName, policyDocument: options.policy ?? seedPolicy(cloud) }),
  );
  await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: thing, principal: certificateArn }));
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${thing}/device.pem.crt`,
      Body: created.certificatePem!,
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${thing}/private.pem.key`,
      Body: created.keyPair!.PrivateKey!,
    }),
  );
  return {
    thing,
    bucket,
    certificateId: created.certificateId!,
    certificateArn,
    certificatePem: created.certificatePem!,
    privateKeyPem: created.keyPair!.PrivateKey!,
    iot,
    s3,
  };
}
