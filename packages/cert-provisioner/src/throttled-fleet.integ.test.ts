/**
 * Many certificate resources created at once against an account-wide create
 * throttle: each invocation waits its turn for as long as it has time, instead
 * of giving up after a fixed number of attempts.
 */
import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { startResponseRecorder, type ResponseRecorder } from '@thingcert/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from './aws-clients';
import { createCertificateResourceHandler } from './certificate-resource-handler';
import { silentLogger } from './provisioner-deps';

const BUCKET = 'fleet-creds';
const TPS = 3;
const FLEET = 6;

let cloud: LocalCloud;
let recorder: ResponseRecorder;

beforeAll(async () => {
  cloud = await startLocalCloud({ throttle: { CreateKeysAndCertificate: TPS } });
  recorder = await startResponseRecorder();
  Object.assign(process.env, cloud.env);
  const s3 = new S3Client({});
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
});

afterAll(async () => {
  await recorder?.close();
  await cloud?.stop();
});

describe('A fleet created at once against a throttled CreateKeysAndCertificate', () => {
  it('succeeds for every device although each client alone would try only once', async () => {
    const invocations = Array.from({ length: FLEET }, (_, i) => {
      // One container per resource, each with clients that make a single
      // attempt outside an invocation: only the invocation deadline lets them retry.
      const handler = createCertificateResourceHandler(createAwsClients({ maxAttempts: 1 }), {
        logger: silentLogger,
      });
      return handler(
        {
          RequestType: 'Create',
          ResponseURL: recorder.responseUrl(),
          StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/fleet/1',
          RequestId: randomUUID(),
          ResourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
          LogicalResourceId: `Device${i}Certificate`,
          ResourceProperties: { ServiceToken: 'x', ThingName: `fleet-${i}`, BucketName: BUCKET },
        },
        { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 120_000 },
      );
    });
    await Promise.all(invocations);

    const responses = recorder.accepted().map((r) => r.json as { Status: string; Reason?: string });
    expect(responses).toHaveLength(FLEET);
    expect(responses.filter((r) => r.Status !== 'SUCCESS').map((r) => r.Reason)).toEqual([]);
  }, 60_000);
});
