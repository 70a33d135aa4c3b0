import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  IoTClient,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import {
  startLocalCloud,
  type LocalCloud,
  type RoleSessionCredentials,
} from '@thingcert/local-cloud';
import { findSecretLeaks } from '@thingcert/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCloudAssembly, type StackArtifact } from './cloud-assembly';
import { LeftoverResourcesError } from './errors';
import { LocalStack } from './local-stack';
import type { DeployedResource } from './resource-provider';
import { synthesize } from './synthesize';

// IAM enforced on the real thing: the infra app synthesized with two devices,
// deployed by the engine onto the local cloud; the provisioner Lambda runs with
// a session of its execution role, each device with one of its instance
// profile's role, over HTTPS. Every assertion below asks with a role's own
// credentials what AWS would answer, and reads the grants from the role's
// policies as deployed (never hard-coded object names). The tests share one
// stack and run in order; the last one updates it (a device removed).

const workspaceRoot = join(import.meta.dirname, '..', '..', '..');
const THINGS = ['thingcert-device-1', 'thingcert-device-2'];

let work: string;
let cloud: LocalCloud;
let stack: LocalStack;
let ca: Buffer;
const lines: string[] = [];
const clients: Array<{ destroy(): void }> = [];

function synth(thingNames: readonly string[]): StackArtifact {
  const outdir = mkdtempSync(join(work, 'cdk.out-'));
  synthesize({ workspaceRoot, outdir, context: { thingNames: thingNames.join(',') } });
  const [artifact] = readCloudAssembly(outdir);
  if (!artifact) throw new Error('no stack synthesized');
  return artifact;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'thingcert-iam-'));
  cloud = await startLocalCloud();
  ca = readFileSync(cloud.caPath);
  stack = new LocalStack('Thingcert', {
    cloud,
    devicesRunOnce: true,
    log: (source, line) => lines.push(`[${source}] ${line}`),
  });
  await stack.deploy(synth(THINGS));
}, 300_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await cloud?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The resources of a type the stack holds. */
function resourcesOf(type: string): DeployedResource[] {
  return [...stack.resources.values()].filter((resource) => resource.type === type);
}

/** The logical id of the instance whose device runs as `thing`. */
function instanceOf(thing: string): string {
  const found = [...stack.devices].find(([, device]) => device.name === thing);
  if (!found) throw new Error(`no device ${thing}`);
  return found[0];
}

/** A new session of the role the resource `logicalId` runs as. */
async function sessionOf(logicalId: string): Promise<RoleSessionCredentials> {
  const roleName = stack.roleOf(logicalId);
  if (roleName === undefined) throw new Error(`${logicalId} runs as no role`);
  return cloud.iam.assumeRole({ roleName, sessionName: 'integ-test' });
}

const https = () => ({ httpsAgent: new Agent({ ca }) });

/** Credentials a client signs with: a role session's, or the admin's. */
interface Signer {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const ADMIN: Signer = { accessKeyId: 'local', secretAccessKey: 'local' };

function s3As(credentials: Signer, endpoint = cloud.s3HttpsEndpoint): S3Client {
  const client = new S3Client({
    endpoint,
    region: cloud.region,
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
    requestHandler: https(),
  });
  clients.push(client);
  return client;
}

function iotAs(credentials: Signer = ADMIN): IoTClient {
  const client = new IoTClient({
    endpoint: cloud.iotHttpsEndpoint,
    region: cloud.region,
    credentials,
    maxAttempts: 1,
    requestHandler: https(),
  });
  clients.push(client);
  return client;
}

const admin = () => s3As(ADMIN, cloud.s3Endpoint);

function bucketName(): string {
  return String(stack.outputs().BucketName);
}

/** Object keys of the credentials bucket that the role's policies allow `s3:GetObject` on. */
async function readableKeys(roleName: string): Promise<string[]> {
  const role = await cloud.iam.getRole(roleName);
  const prefix = `arn:aws:s3:::${bucketName()}/`;
  const statements = Object.values(role?.policies ?? {}).flatMap(
    (policy) => policy.Statement as Array<Record<string, unknown>>,
  );
  return statements
    .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('s3:GetObject'))
    .flatMap((s) => [s.Resource].flat() as string[])
    .filter((arn) => arn.startsWith(prefix))
    .map((arn) => arn.slice(prefix.length));
}

/** An AWS SDK error: its name and HTTP status. */
type AwsError = Error & { $metadata?: { httpStatusCode?: number } };

/** The error a call failed with; the test fails if it succeeded. */
const failure = (call: Promise<unknown>): Promise<AwsError> =>
  call.then(
    () => Promise.reject(new Error('the call succeeded')),
    (error: unknown) => error as AwsError,
  );

describe('IAM enforced on the synthesized stack', () => {
  it('boots each device with its instance profile role only, and each reads its credentials and comes online', async () => {
    const results = await Promise.all(
      THINGS.map((thing) => stack.devices.get(instanceOf(thing))!.exited),
    );

    for (const result of results)
      expect(result).toMatchObject({ exitCode: 0, received: 5, expected: 5 });
    const roles = THINGS.map((thing) => stack.roleOf(instanceOf(thing)));
    expect(new Set(roles).size).toBe(2);
    expect(lines.join('\n')).not.toMatch(/not emulated, ids only: .*AWS::IAM::/);
    expect(findSecretLeaks(lines.join('\n'))).toEqual([]);
  });

  it("device A reads the objects its role grants, not device B's, and cannot list the bucket", async () => {
    const [a, b] = THINGS.map(instanceOf) as [string, string];
    const sessionA = await sessionOf(a);
    const deviceA = s3As(sessionA);
    const ownKeys = await readableKeys(stack.roleOf(a)!);
    const otherKeys = (await readableKeys(stack.roleOf(b)!)).filter(
      (key) => !ownKeys.includes(key),
    );
    expect(ownKeys.length).toBeGreaterThan(0);
    expect(otherKeys.length).toBeGreaterThan(0);

    for (const Key of ownKeys) {
      const object = await deviceA.send(new GetObjectCommand({ Bucket: bucketName(), Key }));
      expect((await object.Body?.transformToString())?.length).toBeGreaterThan(0);
    }
    for (const Key of otherKeys) {
      const error = await failure(
        deviceA.send(new GetObjectCommand({ Bucket: bucketName(), Key })),
      );
      expect(error.name).toBe('AccessDenied');
      expect(error.$metadata?.httpStatusCode).toBe(403);
      expect(error.message).toContain(sessionA.assumedRoleArn);
    }
    for (const Prefix of [undefined, `${THINGS[0]}/`]) {
      const error = await failure(
        deviceA.send(new ListObjectsV2Command({ Bucket: bucketName(), Prefix })),
      );
      expect(error.name).toBe('AccessDenied');
    }
  });

  it('device A may decrypt the credentials key through S3 only', async () => {
    const a = instanceOf(THINGS[0]!);
    const [Key] = await readableKeys(stack.roleOf(a)!);
    const stored = await admin().send(new HeadObjectCommand({ Bucket: bucketName(), Key }));
    // SSE-KMS: the GetObjects above needed kms:Decrypt through S3.
    expect(stored.ServerSideEncryption).toBe('aws:kms');
    const keyArn = String(resourcesOf('AWS::KMS::Key')[0]?.attributes.Arn);
    expect(stored.SSEKMSKeyId).toBe(keyArn);
    const decrypt = (context?: Record<string, string>) =>
      cloud.iam.simulatePrincipalPolicy({
        roleName: stack.roleOf(a)!,
        action: 'kms:Decrypt',
        resource: keyArn,
        context,
      });

    // The local cloud has no KMS API: a Decrypt called directly is asked of its IAM.
    expect((await decrypt()).decision).toBe('implicitDeny');
    expect((await decrypt({ 'kms:ViaService': `s3.${cloud.region}.amazonaws.com` })).decision).toBe(
      'allowed',
    );
  });

  it('refuses plain HTTP to the bucket for the device role: the bucket policy denies it', async () => {
    const a = instanceOf(THINGS[0]!);
    const [Key] = await readableKeys(stack.roleOf(a)!);
    const overHttp = s3As(await sessionOf(a), cloud.s3Endpoint);

    const error = await failure(overHttp.send(new GetObjectCommand({ Bucket: bucketName(), Key })));

    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain('with an explicit deny in a resource-based policy');
  });

  it("refuses the provisioner's role writes outside its grants and IoT calls its policy does not name, changing nothing", async () => {
    const [fn] = resourcesOf('AWS::Lambda::Function');
    const session = await sessionOf(fn!.logicalId);
    const provisioner = s3As(session);
    const logsBucket = resourcesOf('AWS::S3::Bucket').find((b) => b.physicalId !== bucketName())!;
    const writes = [
      { Bucket: bucketName(), Key: 'not-a-thing/object' },
      { Bucket: logsBucket.physicalId, Key: `${THINGS[0]}/object` },
    ];
    for (const target of writes) {
      const error = await failure(provisioner.send(new PutObjectCommand({ ...target, Body: 'x' })));
      expect(error.name).toBe('AccessDenied');
      const listed = await admin().send(
        new ListObjectsV2Command({ Bucket: target.Bucket, Prefix: target.Key }),
      );
      expect(listed.KeyCount ?? 0).toBe(0);
    }

    const iot = iotAs(session);
    for (const call of [
      iot.send(new DeleteThingCommand({ thingName: THINGS[0] })),
      iot.send(new CreateThingCommand({ thingName: 'not-named-by-the-stack' })),
    ]) {
      const error = await failure(call);
      expect(error.name).toBe('AccessDeniedException');
      expect(error.$metadata?.httpStatusCode).toBe(403);
    }
    const adminIot = iotAs();
    expect(
      (await adminIot.send(new DescribeThingCommand({ thingName: THINGS[0] }))).thingName,
    ).toBe(THINGS[0]);
    const things = await adminIot.send(new ListThingsCommand({}));
    expect(things.things?.map((thing) => thing.thingName)).not.toContain('not-named-by-the-stack');
  });

  it("lets the provisioner's role manage any certificate of the account, as its policy grants cert/* (issue 13, defect 7)", async () => {
    const [fn] = resourcesOf('AWS::Lambda::Function');
    const session = await sessionOf(fn!.logicalId);
    const adminIot = iotAs();
    const foreign = await adminIot.send(
      new CreateKeysAndCertificateCommand({ setAsActive: false }),
    );
    try {
      const described = await iotAs(session).send(
        new DescribeCertificateCommand({ certificateId: foreign.certificateId }),
      );
      expect(described.certificateDescription?.certificateArn).toBe(foreign.certificateArn);
      const deletion = await cloud.iam.simulatePrincipalPolicy({
        roleName: stack.roleOf(fn!.logicalId)!,
        action: 'iot:DeleteCertificate',
        resource: foreign.certificateArn!,
      });
      expect(deletion.decision).toBe('allowed');
    } finally {
      await adminIot.send(
        new UpdateCertificateCommand({
          certificateId: foreign.certificateId,
          newStatus: 'INACTIVE',
        }),
      );
      await adminIot.send(new DeleteCertificateCommand({ certificateId: foreign.certificateId }));
    }
  });

  // Issue 13, defect 4, reproduced as on AWS: every thing's S3 grants sit in
  // the provisioner's one shared policy. Removing a device updates that policy
  // in the update phase; the removed certificate's Delete comes in cleanup,
  // after it, and the provisioner is refused its own objects.
  it('removing a device: the shared policy loses its grants in the update phase, so its certificate fails to delete in cleanup', async () => {
    const removed = resourcesOf(DEVICE_CERTIFICATE_RESOURCE_TYPE).find(
      (resource) => resource.properties.ThingName === THINGS[1],
    )!;

    const status = await stack.update(synth([THINGS[0]!]));

    expect(status).toBe('UPDATE_COMPLETE');
    expect(stack.statusReason).toBe(
      'Update successful. One or more resources could not be deleted.',
    );
    const events = stack.events;
    const policyUpdated = events.findIndex(
      (event) => event.resourceType === 'AWS::IAM::Policy' && event.status === 'UPDATE_COMPLETE',
    );
    const cleanup = events.findIndex(
      (event) => event.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
    );
    const failed = events.find(
      (event) => event.logicalId === removed.logicalId && event.status === 'DELETE_FAILED',
    );
    expect(policyUpdated).toBeGreaterThan(-1);
    expect(policyUpdated).toBeLessThan(cleanup);
    expect(events.indexOf(failed!)).toBeGreaterThan(cleanup);
    expect(failed?.reason).toMatch(/AccessDenied|not authorized/);
    // Its objects, its private key among them, are left in the bucket.
    const left = await admin().send(
      new ListObjectsV2Command({ Bucket: bucketName(), Prefix: `${THINGS[1]}/` }),
    );
    expect(left.KeyCount).toBeGreaterThan(0);

    const teardown = await stack.destroy().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(teardown).toBeInstanceOf(LeftoverResourcesError);
    expect(String((teardown as Error).message)).toContain(`${THINGS[1]}/`);
    expect(findSecretLeaks(lines.join('\n'))).toEqual([]);
  });
});
