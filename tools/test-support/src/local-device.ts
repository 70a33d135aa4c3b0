import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import { registerLocalDevice } from './register-local-device';

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
 * A device registered the way the seed's custom resource does it: certificate
 * (CreateKeysAndCertificate), thing, policy, both attachments, and the
 * cert/key in `<bucket>/<thing>/`, with the real SDK clients against the local cloud.
 */
export async function provisionLocalDevice(
  cloud: LocalCloudEndpoints,
  options: { policy?: string; thing?: string } = {},
): Promise<LocalDevice> {
  const { iot, s3 } = localClients(cloud);
  const id = `${process.pid}-${++counter}`;
  const thing = options.thing ?? `thing-${id}`;
  const bucket = `devices-${id}`;
  const device = await registerLocalDevice(iot, {
    thingName: thing,
    policyName: `policy-${id}`,
    policyDocument: options.policy ?? seedPolicy(cloud),
    s3: { client: s3, bucket, thingName: thing },
  });
  return {
    thing,
    bucket,
    certificateId: device.certificateId,
    certificateArn: device.certificateArn,
    certificatePem: device.certificatePem,
    privateKeyPem: device.privateKeyPem,
    iot,
    s3,
  };
}
