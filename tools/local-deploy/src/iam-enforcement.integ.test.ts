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
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  certificatesFolder,
  credentialPointerKey,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  parseCredentialPointer,
  type CredentialPointer,
} from '@thingcert/contracts';
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
import type { StackEvent } from './stack-events';
import { synthesize } from './synthesize';
import { withPerThingObjectGrants } from '../test/per-thing-policy';

// IAM enforced on the real thing: the infra app synthesized with two devices,
// deployed by the engine onto the local cloud; the provisioner Lambda runs with
// a session of its execution role, each device with one of its instance
// profile's role, over HTTPS. Every assertion below asks with a role's own
// credentials what AWS would answer, and reads the grants from the role's
// policies as deployed. The tests share one stack and run in order; the last
// three update it (a device removed, a rotation after drift, then the removal
// again with the provisioner's grants in their old per-thing shape) and
// delete it.

const workspaceRoot = join(import.meta.dirname, '..', '..', '..');
const THINGS = ['thingcert-device-1', 'thingcert-device-2'] as const;
const [A, B] = THINGS;

let work: string;
let cloud: LocalCloud;
let stack: LocalStack;
let ca: Buffer;
const lines: string[] = [];
const clients: Array<{ destroy(): void }> = [];
/**
 * A test that updates the stack: a synth and one or two stack updates, a
 * minute or two on a loaded machine.
 */
const STACK_UPDATE_TIMEOUT_MS = 420_000;
/** The templates the tests move between, synthesized once each. */
const templates = new Map<string, StackArtifact>();

function synth(thingNames: readonly string[], context: Record<string, string> = {}): StackArtifact {
  const cacheKey = JSON.stringify([thingNames, context]);
  const cached = templates.get(cacheKey);
  if (cached) return cached;
  const outdir = mkdtempSync(join(work, 'cdk.out-'));
  synthesize({
    workspaceRoot,
    outdir,
    context: { ...context, thingNames: thingNames.join(',') },
    // The infra app's own tests validate its templates.
    validate: false,
  });
  const [artifact] = readCloudAssembly(outdir);
  if (!artifact) throw new Error('no stack synthesized');
  templates.set(cacheKey, artifact);
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

/** The certificate resource the stack holds for `thing`. */
function certificateOf(thing: string): DeployedResource {
  const found = resourcesOf(DEVICE_CERTIFICATE_RESOURCE_TYPE).find(
    (resource) => resource.properties.ThingName === thing,
  );
  if (!found) throw new Error(`no certificate for ${thing}`);
  return found;
}

/** The logical id of the instance whose device runs as `thing`. */
function instanceOf(thing: string): string {
  const found = [...stack.devices].find(([, device]) => device.name === thing);
  if (!found) throw new Error(`no device ${thing}`);
  return found[0];
}

/** The provisioner Lambda's logical id (the function behind the certificates). */
function provisionerFunction(): string {
  const [fn] = resourcesOf('AWS::Lambda::Function');
  if (!fn) throw new Error('no function');
  return fn.logicalId;
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

/** Object keys (`*` patterns included) of the credentials bucket the role may `s3:GetObject`. */
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

/** A thing's pointer (read as the admin) and the keys of the objects it names. */
async function credentialsOf(thing: string): Promise<{ pointer: string; body: CredentialPointer }> {
  const pointer = credentialPointerKey({ thingName: thing });
  const object = await admin().send(new GetObjectCommand({ Bucket: bucketName(), Key: pointer }));
  return { pointer, body: parseCredentialPointer(await object.Body!.transformToString()) };
}

/** The keys a thing's device reads: its pointer, then the objects it names. */
async function deviceKeys(thing: string): Promise<string[]> {
  const { pointer, body } = await credentialsOf(thing);
  const { certificate, publicKey, privateKey } = body.objects;
  return [pointer, certificate, publicKey, privateKey];
}

/** Every object key under `prefix`, as the admin lists them. */
async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await admin().send(
    new ListObjectsV2Command({ Bucket: bucketName(), Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => object.Key!);
}

/**
 * Where, in `events`, the update's cleanup began and `logicalId` reached
 * `status` (-1 for what did not happen).
 */
function cleanupOrder(events: readonly StackEvent[], logicalId: string, status: string) {
  return {
    cleanup: events.findIndex((event) => event.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'),
    step: events.findIndex((event) => event.logicalId === logicalId && event.status === status),
  };
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

  it("device A reads its pointer and the certificate folder it names, none of device B's objects, and cannot list the bucket", async () => {
    const sessionA = await sessionOf(instanceOf(A));
    const deviceA = s3As(sessionA);
    // Its role grants its pointer and its certificates' folders, nothing else.
    expect((await readableKeys(stack.roleOf(instanceOf(A))!)).sort()).toEqual(
      [`${certificatesFolder({ thingName: A })}*`, credentialPointerKey({ thingName: A })].sort(),
    );
    const own = await deviceKeys(A);
    const others = await deviceKeys(B);
    expect(own.slice(1).every((key) => key.startsWith(certificatesFolder({ thingName: A })))).toBe(
      true,
    );
    expect(own).toHaveLength(4);

    for (const Key of own) {
      const object = await deviceA.send(new GetObjectCommand({ Bucket: bucketName(), Key }));
      expect((await object.Body?.transformToString())?.length).toBeGreaterThan(0);
    }
    for (const Key of others) {
      const error = await failure(
        deviceA.send(new GetObjectCommand({ Bucket: bucketName(), Key })),
      );
      expect(error.name).toBe('AccessDenied');
      expect(error.$metadata?.httpStatusCode).toBe(403);
      expect(error.message).toContain(sessionA.assumedRoleArn);
    }
    for (const Prefix of [undefined, `${A}/`]) {
      const error = await failure(
        deviceA.send(new ListObjectsV2Command({ Bucket: bucketName(), Prefix })),
      );
      expect(error.name).toBe('AccessDenied');
    }
  });

  it('device A may decrypt the credentials key through S3 only', async () => {
    const a = instanceOf(A);
    const Key = (await credentialsOf(A)).body.objects.privateKey;
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
    const a = instanceOf(A);
    const overHttp = s3As(await sessionOf(a), cloud.s3Endpoint);

    const error = await failure(
      overHttp.send(
        new GetObjectCommand({ Bucket: bucketName(), Key: credentialPointerKey({ thingName: A }) }),
      ),
    );

    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain('with an explicit deny in a resource-based policy');
  });

  it("refuses the provisioner's role writes outside its bucket and IoT calls on things, changing nothing", async () => {
    const session = await sessionOf(provisionerFunction());
    const provisioner = s3As(session);
    const logsBucket = resourcesOf('AWS::S3::Bucket').find((b) => b.physicalId !== bucketName())!;
    const outside = { Bucket: logsBucket.physicalId, Key: `${A}/object` };
    const error = await failure(provisioner.send(new PutObjectCommand({ ...outside, Body: 'x' })));
    expect(error.name).toBe('AccessDenied');
    const listed = await admin().send(
      new ListObjectsV2Command({ Bucket: outside.Bucket, Prefix: outside.Key }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
    // Inside its bucket it may write any key: its grant is bucket-scoped so that
    // it never changes when devices do (issue 13, defect 4; the bucket holds
    // nothing but what it writes).
    const inside = { Bucket: bucketName(), Key: 'not-a-thing/object' };
    await provisioner.send(new PutObjectCommand({ ...inside, Body: 'x' }));
    await provisioner.send(new DeleteObjectCommand(inside));

    const iot = iotAs(session);
    for (const call of [
      iot.send(new DeleteThingCommand({ thingName: A })),
      iot.send(new CreateThingCommand({ thingName: 'not-named-by-the-stack' })),
    ]) {
      const refused = await failure(call);
      expect(refused.name).toBe('AccessDeniedException');
      expect(refused.$metadata?.httpStatusCode).toBe(403);
    }
    const adminIot = iotAs();
    expect((await adminIot.send(new DescribeThingCommand({ thingName: A }))).thingName).toBe(A);
    const things = await adminIot.send(new ListThingsCommand({}));
    expect(things.things?.map((thing) => thing.thingName)).not.toContain('not-named-by-the-stack');
  });

  it("lets the provisioner's role manage any certificate of the account, as its policy grants cert/* (issue 13, defect 7)", async () => {
    const fn = provisionerFunction();
    const session = await sessionOf(fn);
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
        roleName: stack.roleOf(fn)!,
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

  // Issue 13, defect 4, fixed: the provisioner's S3 grant is the whole
  // credentials bucket, so removing a device leaves its policy as it was and
  // the removed certificate's Delete in cleanup may still reach its objects.
  it(
    "removing a device: the provisioner's policy is unchanged, and the certificate's Delete in cleanup removes everything of it",
    async () => {
      const removed = certificateOf(B);
      const deviceRole = stack.roleOf(instanceOf(B))!;
      const provisionerRole = stack.roleOf(provisionerFunction());
      const provisionerPolicy = resourcesOf('AWS::IAM::Policy').find((policy) =>
        [policy.properties.Roles].flat().includes(provisionerRole),
      );
      expect(provisionerPolicy).toBeDefined();
      const before = stack.events.length;

      const status = await stack.update(synth([A]));

      expect(status).toBe('UPDATE_COMPLETE');
      expect(stack.statusReason).toBeUndefined();
      const events = stack.events.slice(before);
      const { cleanup, step: deleted } = cleanupOrder(events, removed.logicalId, 'DELETE_COMPLETE');
      expect(cleanup).toBeGreaterThan(-1);
      expect(deleted).toBeGreaterThan(cleanup);
      expect(events.filter((event) => event.status === 'DELETE_FAILED')).toEqual([]);
      expect(events.filter((event) => event.logicalId === provisionerPolicy?.logicalId)).toEqual(
        [],
      );
      // Nothing of the device is left: objects, certificate, role.
      expect(await keysUnder(`${B}/`)).toEqual([]);
      const gone = await failure(
        iotAs().send(new DescribeCertificateCommand({ certificateId: removed.physicalId })),
      );
      expect(gone.name).toBe('ResourceNotFoundException');
      expect(await cloud.iam.getRole(deviceRole)).toBeUndefined();
    },
    STACK_UPDATE_TIMEOUT_MS,
  );

  // S3 tells a caller that a key does not exist (404 NoSuchKey) only if it may
  // s3:ListBucket the bucket. The provisioner may (without an s3:prefix
  // condition), so it reads a missing record as "not found", as it expects;
  // a device may not, so its missing key answers 403.
  it(
    'a missing object answers the provisioner NoSuchKey and a device AccessDenied; a rotation after drift completes',
    async () => {
      const provisioner = s3As(await sessionOf(provisionerFunction()));
      const device = s3As(await sessionOf(instanceOf(A)));
      const missingKey = `${certificatesFolder({ thingName: A })}no-such-object`;
      const missing = await failure(
        provisioner.send(new GetObjectCommand({ Bucket: bucketName(), Key: missingKey })),
      );
      expect(missing.name).toBe('NoSuchKey');
      expect(missing.$metadata?.httpStatusCode).toBe(404);
      const denied = await failure(
        device.send(new GetObjectCommand({ Bucket: bucketName(), Key: missingKey })),
      );
      expect(denied.name).toBe('AccessDenied');
      expect(denied.$metadata?.httpStatusCode).toBe(403);
      // Drift, as in the lifecycle table: the certificate's private key deleted out of band.
      const drifted = certificateOf(A);
      const { body } = await credentialsOf(A);
      await admin().send(
        new DeleteObjectCommand({ Bucket: bucketName(), Key: body.objects.privateKey }),
      );

      const status = await stack.update(synth([A], { rotationToken: 'after-drift' }));

      expect(status).toBe('UPDATE_COMPLETE');
      const rotated = certificateOf(A);
      expect(rotated.physicalId).not.toBe(drifted.physicalId);
      expect((await credentialsOf(A)).body.certificateId).toBe(rotated.physicalId);
      // The drifted certificate's folder went with its Delete in cleanup.
      expect(
        await keysUnder(`${certificatesFolder({ thingName: A })}${drifted.physicalId}/`),
      ).toEqual([]);
    },
    STACK_UPDATE_TIMEOUT_MS,
  );

  // Issue 16: before the fix for the shared policy, the removal must fail
  // locally exactly as on AWS. The same stack with the provisioner's grants in
  // their old shape (one shared AWS::IAM::Policy, one folder per thing): the
  // removal updates that policy in the update phase, and the removed
  // certificate's Delete in cleanup, after it, is refused its own objects.
  it(
    'the old per-thing shape of the shared policy: removing a device fails its Delete in cleanup with AccessDenied, as on AWS',
    async () => {
      const restored = await stack.update(withPerThingObjectGrants(synth(THINGS)));
      expect(restored, stack.statusReason).toBe('UPDATE_COMPLETE');
      const removed = certificateOf(B);
      const before = stack.events.length;

      const status = await stack.update(withPerThingObjectGrants(synth([A])));

      expect(status).toBe('UPDATE_COMPLETE');
      expect(stack.statusReason).toBe(
        'Update successful. One or more resources could not be deleted.',
      );
      const events = stack.events.slice(before);
      const policyUpdated = events.findIndex(
        (event) => event.resourceType === 'AWS::IAM::Policy' && event.status === 'UPDATE_COMPLETE',
      );
      const { cleanup, step: failed } = cleanupOrder(events, removed.logicalId, 'DELETE_FAILED');
      expect(policyUpdated).toBeGreaterThan(-1);
      expect(policyUpdated).toBeLessThan(cleanup);
      expect(failed).toBeGreaterThan(cleanup);
      expect(events[failed]?.reason).toMatch(/AccessDenied|not authorized/);
      // Its objects, its private key among them, are left in the bucket.
      expect((await keysUnder(`${B}/`)).length).toBeGreaterThan(0);

      const teardown = await stack.destroy().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(teardown).toBeInstanceOf(LeftoverResourcesError);
      expect(String((teardown as Error).message)).toContain(removed.physicalId);
      expect(findSecretLeaks(lines.join('\n'))).toEqual([]);
    },
    STACK_UPDATE_TIMEOUT_MS,
  );
});
