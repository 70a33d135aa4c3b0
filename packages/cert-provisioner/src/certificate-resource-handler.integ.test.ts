/**
 * The BUNDLED Lambda (dist/lambda/index.mjs, built by the `test` target's
 * dependency on `build`) against the local cloud over loopback, with
 * CloudFormation-shaped events and the responses captured by a local server.
 */
import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ListCertificatesCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import {
  findSecretLeaks,
  startResponseRecorder,
  type ResponseRecorder,
} from '@thingcert/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '@thingcert/cfn-response';

const BUNDLE = fileURLToPath(new URL('../dist/lambda/index.mjs', import.meta.url));
const INVOKER = fileURLToPath(new URL('../test/invoke-bundle.mjs', import.meta.url));
const STACK_ID = 'arn:aws:cloudformation:us-east-1:000000000000:stack/devices/5b1e';
const BUCKET = 'device-creds';

interface Response {
  Status: string;
  Reason?: string;
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

let cloud: LocalCloud;
let recorder: ResponseRecorder;
let handler: LambdaHandler;
let iot: IoTClient;
let s3: S3Client;
const logLines: string[] = [];

beforeAll(async () => {
  cloud = await startLocalCloud({ detachDelayMs: 300 });
  recorder = await startResponseRecorder();
  Object.assign(process.env, cloud.env);
  // The bundle builds its clients from these at import, like Lambda's init.
  handler = ((await import(BUNDLE)) as { handler: LambdaHandler }).handler;
  const config = { region: cloud.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
  iot = new IoTClient({ ...config, endpoint: cloud.iotEndpoint });
  s3 = new S3Client({ ...config, endpoint: cloud.s3Endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // The handler logs JSON lines to the console: keep them for the leak scan.
  const keep = (...args: unknown[]) => void logLines.push(args.map(String).join(' '));
  vi.spyOn(console, 'log').mockImplementation(keep);
  vi.spyOn(console, 'error').mockImplementation(keep);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await recorder?.close();
  await cloud?.stop();
});

function event(
  type: 'Create' | 'Update' | 'Delete',
  props: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  return {
    RequestType: type,
    ResponseURL: recorder.responseUrl(),
    StackId: STACK_ID,
    RequestId: randomUUID(),
    ResourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
    LogicalResourceId: 'DeviceCertificate',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:cert',
      BucketName: BUCKET,
      ...props,
    },
    ...extra,
  };
}

/** Invokes the bundle in this process and returns the one response it sent. */
async function invoke(e: ReturnType<typeof event>): Promise<Response> {
  const before = recorder.accepted().length;
  await handler(e, { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 60_000 });
  const accepted = recorder.accepted();
  expect(accepted.length).toBe(before + 1);
  return accepted[before]!.json as Response;
}

async function certificateIds(): Promise<string[]> {
  const out = await iot.send(new ListCertificatesCommand({}));
  return (out.certificates ?? []).map((c) => c.certificateId!).sort();
}

async function keys(prefix = ''): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((c) => c.Key!).sort();
}

async function read(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

describe('Bundled handler against the local cloud', () => {
  it('runs Create, no-op Update, rotation Update and Delete of both certificates', async () => {
    const props = { ThingName: 'lifecycle-1', KeyMode: 'csr' };
    await iot.send(new CreateThingCommand({ thingName: 'lifecycle-1' }));

    const created = await invoke(event('Create', props));
    expect(created.Status).toBe('SUCCESS');
    const firstId = created.PhysicalResourceId;
    expect(created.Data).toMatchObject({
      CertificateId: firstId,
      IoTEndpoint: cloud.dataEndpoint,
      CertificateObjectKey: 'lifecycle-1/device.pem.crt',
    });
    const firstArn = created.Data!.CertificateArn!;
    await iot.send(
      new AttachThingPrincipalCommand({ thingName: 'lifecycle-1', principal: firstArn }),
    );
    const described = await iot.send(new DescribeCertificateCommand({ certificateId: firstId }));
    expect(await read('lifecycle-1/device.pem.crt')).toBe(
      described.certificateDescription?.certificatePem,
    );

    const same = await invoke(
      event('Update', props, {
        PhysicalResourceId: firstId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
    );
    expect(same).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: firstId,
      Data: created.Data,
    });

    const rotatedProps = { ...props, RotationToken: '2026-01' };
    const rotated = await invoke(
      event('Update', rotatedProps, {
        PhysicalResourceId: firstId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
    );
    expect(rotated.Status).toBe('SUCCESS');
    const secondId = rotated.PhysicalResourceId;
    expect(secondId).not.toBe(firstId);
    expect(await certificateIds()).toEqual([firstId, secondId].sort());
    // What CloudFormation's attachment resources do next: attach new, detach old (async).
    await iot.send(
      new AttachThingPrincipalCommand({
        thingName: 'lifecycle-1',
        principal: rotated.Data!.CertificateArn,
      }),
    );
    await iot.send(
      new DetachThingPrincipalCommand({ thingName: 'lifecycle-1', principal: firstArn }),
    );

    const deletedOld = await invoke(event('Delete', props, { PhysicalResourceId: firstId }));
    expect(deletedOld.Status).toBe('SUCCESS');
    expect(await certificateIds()).toEqual([secondId]);
    expect(await keys('lifecycle-1/')).toEqual(
      expect.arrayContaining([
        'lifecycle-1/device.pem.crt',
        'lifecycle-1/private.pem.key',
        'lifecycle-1/public.pem.key',
      ]),
    );
    const current = await iot.send(new DescribeCertificateCommand({ certificateId: secondId }));
    expect(await read('lifecycle-1/device.pem.crt')).toBe(
      current.certificateDescription?.certificatePem,
    );

    await iot.send(
      new DetachThingPrincipalCommand({
        thingName: 'lifecycle-1',
        principal: rotated.Data!.CertificateArn,
      }),
    );
    const deletedNew = await invoke(
      event('Delete', rotatedProps, { PhysicalResourceId: secondId }),
    );
    expect(deletedNew.Status).toBe('SUCCESS');
    expect(await certificateIds()).toEqual([]);
    expect(await keys('lifecycle-1/')).toEqual([]);
    expect(
      findSecretLeaks(
        [...logLines, ...recorder.requests.map((r) => r.rawBody.toString())].join('\n'),
      ),
    ).toEqual([]);
  });

  it('acknowledges the Delete after a failed Create and leaves no certificate', async () => {
    const props = { ThingName: 'conflicted-1' };
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'conflicted-1/device.pem.crt',
        Body: 'not ours',
      }),
    );

    const failed = await invoke(event('Create', props));
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toContain('ObjectConflictError');
    expect(failed.PhysicalResourceId).toMatch(/^thingcert:CREATE_FAILED:/);
    // The failed request keeps its marker until CloudFormation's rollback Delete.
    expect((await keys('conflicted-1/')).some((k) => k.includes('/.thingcert/'))).toBe(true);

    const deleted = await invoke(
      event('Delete', props, { PhysicalResourceId: failed.PhysicalResourceId }),
    );
    expect(deleted.Status).toBe('SUCCESS');
    expect(await certificateIds()).toEqual([]);
    expect(await read('conflicted-1/device.pem.crt')).toBe('not ours');
    expect(await keys('conflicted-1/')).toEqual(['conflicted-1/device.pem.crt']);
  });
});

describe('Bundled handler against the local cloud', () => {
  it('makes one certificate when two Lambda processes get the same Create at once', async () => {
    const e = event('Create', { ThingName: 'duplicate-1' });
    const before = recorder.accepted().length;
    const env = {
      ...process.env,
      ...cloud.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const run = () =>
      promisify(execFile)(process.execPath, [INVOKER, BUNDLE, JSON.stringify(e)], { env });

    const outputs = await Promise.all([run(), run()]);

    const answers = (await recorder.waitForAccepted(before + 2))
      .slice(before)
      .map((r) => r.json as Response);
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]?.Status).toBe('SUCCESS');
    expect(await certificateIds()).toEqual([answers[0]!.PhysicalResourceId]);
    const childLogs = outputs.map((o) => `${o.stdout}\n${o.stderr}`).join('\n');
    expect(childLogs).toContain('Duplicate delivery of this request');
    expect(findSecretLeaks(childLogs)).toEqual([]);

    await invoke(
      event(
        'Delete',
        { ThingName: 'duplicate-1' },
        { PhysicalResourceId: answers[0]!.PhysicalResourceId },
      ),
    );
    expect(await certificateIds()).toEqual([]);
  });

  it("deletes only its own thing's objects while other things' objects stay", async () => {
    const others = [
      'sensor-10/device.pem.crt',
      'sensor-2/private.pem.key',
      'sensor-1.txt',
      'fleet/sensor-1/device.pem.crt',
    ];
    for (const key of others)
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    const created = await invoke(event('Create', { ThingName: 'sensor-1' }));
    // Three credentials, the request marker and the certificate record.
    expect(await keys('sensor-1/')).toHaveLength(5);

    const deleted = await invoke(
      event(
        'Delete',
        { ThingName: 'sensor-1' },
        { PhysicalResourceId: created.PhysicalResourceId },
      ),
    );

    expect(deleted.Status).toBe('SUCCESS');
    expect(await keys('sensor-1/')).toEqual([]);
    for (const key of others) expect(await read(key)).toBe(key);
    expect(await certificateIds()).toEqual([]);
  });
});

describe('Bundled handler against the local cloud: lifecycle rules', () => {
  it('rolls back a failed rotation to the same certificate, answering SUCCESS despite drift', async () => {
    const props = { ThingName: 'rollback-1' };
    const created = await invoke(event('Create', props));
    const firstId = created.PhysicalResourceId;
    // Drift: the certificate object replaced out of band, so the rotation fails.
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'rollback-1/device.pem.crt', Body: 'not ours' }),
    );
    const rotatedProps = { ...props, RotationToken: '2' };
    const rotation = await invoke(
      event('Update', rotatedProps, {
        PhysicalResourceId: firstId,
        OldResourceProperties: { ...props, BucketName: BUCKET },
      }),
    );
    expect(rotation).toMatchObject({ Status: 'FAILED', PhysicalResourceId: firstId });
    expect(rotation.Reason).toContain('ObjectConflictError');

    // CloudFormation's rollback Update: the old properties, from the failed ones.
    const failedProps = { ...rotatedProps, BucketName: BUCKET };
    const rollback = event('Update', props, {
      PhysicalResourceId: firstId,
      OldResourceProperties: failedProps,
    });
    const answered = { Status: 'SUCCESS', PhysicalResourceId: firstId, Data: created.Data };
    expect(await invoke(rollback)).toMatchObject(answered);
    expect(await certificateIds()).toEqual([firstId]);

    const deleted = await invoke(event('Delete', props, { PhysicalResourceId: firstId }));
    expect(deleted.Status).toBe('SUCCESS');
    expect(await certificateIds()).toEqual([]);
    expect(await keys('rollback-1/.thingcert/certificates/')).toEqual([]);
  });

  it('removes on the rollback Delete the certificate a frozen Create cleanup left behind', async () => {
    // What a Create leaves when Lambda freezes it mid-cleanup after the guard
    // answered: an ACTIVE certificate, named by the record written as soon as
    // it existed.
    const createRequestId = randomUUID();
    const made = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const certificateId = made.certificateId!;
    const record = {
      version: 1,
      certificateId,
      certificateArn: made.certificateArn,
      endpoint: cloud.dataEndpoint,
      thingName: 'frozen-1',
      bucketName: BUCKET,
      keyPrefix: '',
      keyMode: 'server',
      keyAlgorithm: 'RSA_2048',
      stackId: STACK_ID,
      requestId: createRequestId,
      createdAt: new Date().toISOString(),
    };
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `frozen-1/.thingcert/certificates/${certificateId}.json`,
        Body: JSON.stringify(record),
      }),
    );

    const deleted = await invoke(
      event(
        'Delete',
        { ThingName: 'frozen-1' },
        { PhysicalResourceId: `thingcert:CREATE_FAILED:${createRequestId}` },
      ),
    );

    expect(deleted.Status).toBe('SUCCESS');
    expect(await certificateIds()).toEqual([]);
    expect(await keys('frozen-1/')).toEqual([]);
  });

  it('leaves a certificate it did not make untouched when a Delete names it', async () => {
    const made = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const certificateId = made.certificateId!;

    const deleted = await invoke(
      event('Delete', { ThingName: 'victim-1' }, { PhysicalResourceId: certificateId }),
    );

    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: certificateId });
    const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('ACTIVE');
    await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true }));
  });
});
