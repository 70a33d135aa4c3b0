import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { failure, iamTestCloud, type CloudFixture, type IdentityClients } from '../test/helpers';

const iam = iamTestCloud();
const { roleSession } = iam;
let fixture: CloudFixture;
beforeAll(() => {
  fixture = iam.fixture();
});

const ACCOUNT = '000000000000';
const allow = (action: string | string[], resource: string | string[], condition?: object) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: resource, Condition: condition }],
});

/** A bucket (made by the admin) holding `keys`, each with its own name as body. */
async function bucketWith(bucket: string, keys: string[]): Promise<void> {
  await fixture.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of keys) {
    await fixture.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  }
}

/** Sets the bucket policy (as the admin) to the given statements. */
async function putBucketPolicy(bucket: string, ...statements: object[]): Promise<void> {
  await fixture.s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
    }),
  );
}

async function read(clients: { s3: IdentityClients['s3'] }, bucket: string, key: string) {
  const got = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToString();
}

describe('S3 authorization of role sessions', () => {
  it('allows s3:GetObject on bucket/a/* only: a/x is read, b/x is AccessDenied naming principal, action and resource', async () => {
    await bucketWith('iam-prefix', ['a/x', 'b/x']);
    const role = await roleSession('reader-a', {
      Read: allow('s3:GetObject', 'arn:aws:s3:::iam-prefix/a/*'),
    });
    expect(await read(role, 'iam-prefix', 'a/x')).toBe('a/x');
    const refused = await failure(read(role, 'iam-prefix', 'b/x'));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toBe(
      `User: ${role.credentials.assumedRoleArn} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::iam-prefix/b/x" because no identity-based policy allows the s3:GetObject action`,
    );
  });

  it('refuses ListObjectsV2 without s3:ListBucket, and with an s3:prefix condition allows that prefix only', async () => {
    await bucketWith('iam-list', ['a/1', 'a/2', 'b/1']);
    const none = await roleSession('no-list', { Read: allow('s3:GetObject', '*') });
    expect(
      await failure(none.s3.send(new ListObjectsV2Command({ Bucket: 'iam-list', Prefix: 'a/' }))),
    ).toMatchObject({ name: 'AccessDenied', status: 403 });
    const scoped = await roleSession('list-a', {
      List: allow('s3:ListBucket', 'arn:aws:s3:::iam-list', {
        StringLike: { 's3:prefix': ['a/', 'a/*'] },
      }),
    });
    const listed = await scoped.s3.send(
      new ListObjectsV2Command({ Bucket: 'iam-list', Prefix: 'a/' }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['a/1', 'a/2']);
    for (const prefix of ['b/', undefined]) {
      expect(
        await failure(
          scoped.s3.send(new ListObjectsV2Command({ Bucket: 'iam-list', Prefix: prefix })),
        ),
      ).toMatchObject({ name: 'AccessDenied', status: 403 });
    }
  });

  it('answers a missing key with 403 unless the caller may list the bucket (then 404 NoSuchKey)', async () => {
    await bucketWith('iam-missing', []);
    const reader = await roleSession('reader-missing', {
      Read: allow('s3:GetObject', 'arn:aws:s3:::iam-missing/*'),
    });
    expect(await failure(read(reader, 'iam-missing', 'nope'))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    await fixture.cloud.iam.putRolePolicy(
      'reader-missing',
      'List',
      allow('s3:ListBucket', 'arn:aws:s3:::iam-missing'),
    );
    expect(await failure(read(reader, 'iam-missing', 'nope'))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('applies replaced and removed identity policies from the next request on', async () => {
    await bucketWith('iam-runtime', ['k']);
    const role = await roleSession('changing', {});
    expect(await failure(read(role, 'iam-runtime', 'k'))).toMatchObject({ name: 'AccessDenied' });
    await fixture.cloud.iam.putRolePolicy('changing', 'P', allow('s3:GetObject', '*'));
    expect(await read(role, 'iam-runtime', 'k')).toBe('k');
    await fixture.cloud.iam.putRolePolicy(
      'changing',
      'P',
      allow('s3:GetObject', 'arn:aws:s3:::other/*'),
    );
    expect(await failure(read(role, 'iam-runtime', 'k'))).toMatchObject({ name: 'AccessDenied' });
    await fixture.cloud.iam.putRole({ roleName: 'changing', policies: { Q: allow('s3:*', '*') } });
    expect(await read(role, 'iam-runtime', 'k')).toBe('k');
    await fixture.cloud.iam.deleteRolePolicy('changing', 'Q');
    expect(await failure(read(role, 'iam-runtime', 'k'))).toMatchObject({ name: 'AccessDenied' });
  });

  it('changes nothing when it refuses: PutObject, DeleteObject, and the denied keys of DeleteObjects', async () => {
    await bucketWith('iam-nochange', ['keep/1', 'free/1', 'free/2']);
    const role = await roleSession('deleter', {
      Delete: allow('s3:DeleteObject', 'arn:aws:s3:::iam-nochange/free/*'),
    });
    expect(
      await failure(
        role.s3.send(new PutObjectCommand({ Bucket: 'iam-nochange', Key: 'new', Body: 'x' })),
      ),
    ).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(
      await failure(fixture.s3.send(new HeadObjectCommand({ Bucket: 'iam-nochange', Key: 'new' }))),
    ).toMatchObject({ status: 404 });
    expect(
      await failure(
        role.s3.send(new DeleteObjectCommand({ Bucket: 'iam-nochange', Key: 'keep/1' })),
      ),
    ).toMatchObject({ name: 'AccessDenied', status: 403 });
    const result = await role.s3.send(
      new DeleteObjectsCommand({
        Bucket: 'iam-nochange',
        Delete: { Objects: [{ Key: 'keep/1' }, { Key: 'free/1' }, { Key: 'free/2' }] },
      }),
    );
    expect(result.Deleted?.map((d) => d.Key)).toEqual(['free/1', 'free/2']);
    expect(result.Errors).toEqual([
      { Key: 'keep/1', Code: 'AccessDenied', Message: 'Access Denied' },
    ]);
    const left = await fixture.s3.send(new ListObjectsV2Command({ Bucket: 'iam-nochange' }));
    expect(left.Contents?.map((o) => o.Key)).toEqual(['keep/1']);
  });

  it('signs streamed (aws-chunked) uploads and keys with spaces and unicode as the SDK sends them', async () => {
    await bucketWith('iam-wire', []);
    const role = await roleSession('writer', {
      Write: allow(['s3:PutObject', 's3:GetObject'], 'arn:aws:s3:::iam-wire/*'),
    });
    const key = 'dir/a key+with ünïcode=&?.txt';
    const body = Buffer.alloc(70_000, 7);
    await role.s3.send(
      new PutObjectCommand({
        Bucket: 'iam-wire',
        Key: key,
        Body: Readable.from([body]),
        ContentLength: body.length,
      }),
    );
    const got = await role.s3.send(new GetObjectCommand({ Bucket: 'iam-wire', Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
  });
});

describe('S3 bucket policies', () => {
  it('puts, gets and deletes a bucket policy, refusing malformed ones as S3 does', async () => {
    await bucketWith('iam-policy-api', []);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:DeleteObject',
          Resource: 'arn:aws:s3:::iam-policy-api/*',
        },
      ],
    });
    await fixture.s3.send(new PutBucketPolicyCommand({ Bucket: 'iam-policy-api', Policy: policy }));
    const got = await fixture.s3.send(new GetBucketPolicyCommand({ Bucket: 'iam-policy-api' }));
    expect(JSON.parse(got.Policy!)).toEqual(JSON.parse(policy));
    for (const bad of [
      '{not json',
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      JSON.stringify({
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::other/*' },
        ],
      }),
    ]) {
      expect(
        await failure(
          fixture.s3.send(new PutBucketPolicyCommand({ Bucket: 'iam-policy-api', Policy: bad })),
        ),
      ).toMatchObject({ name: 'MalformedPolicy', status: 400 });
    }
    await fixture.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'iam-policy-api' }));
    expect(
      await failure(fixture.s3.send(new GetBucketPolicyCommand({ Bucket: 'iam-policy-api' }))),
    ).toMatchObject({ name: 'NoSuchBucketPolicy', status: 404 });
  });

  it('lets an explicit Deny in the bucket policy win over an identity Allow', async () => {
    await bucketWith('iam-deny', ['secret/1', 'open/1']);
    const role = await roleSession('denied-by-bucket', { All: allow('s3:GetObject', '*') });
    await putBucketPolicy('iam-deny', {
      Effect: 'Deny',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/denied-by-bucket` },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::iam-deny/secret/*',
    });
    expect(await read(role, 'iam-deny', 'open/1')).toBe('open/1');
    const refused = await failure(read(role, 'iam-deny', 'secret/1'));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toContain('with an explicit deny in a resource-based policy');
  });

  it('grants a role access through the bucket policy alone (same account)', async () => {
    await bucketWith('iam-grant', ['k']);
    const role = await roleSession('granted-by-bucket', {});
    expect(await failure(read(role, 'iam-grant', 'k'))).toMatchObject({ name: 'AccessDenied' });
    await putBucketPolicy('iam-grant', {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/granted-by-bucket` },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::iam-grant/*',
    });
    expect(await read(role, 'iam-grant', 'k')).toBe('k');
  });

  it('refuses plain HTTP and allows HTTPS under the TLS-only policy (aws:SecureTransport); the admin is not subject to it', async () => {
    await bucketWith('iam-tls', ['k']);
    await putBucketPolicy('iam-tls', {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: ['arn:aws:s3:::iam-tls', 'arn:aws:s3:::iam-tls/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const role = await roleSession('tls-reader', { Read: allow('s3:GetObject', '*') });
    const refused = await failure(read(role, 'iam-tls', 'k'));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toContain('explicit deny in a resource-based policy');
    expect(await read({ s3: role.s3Https }, 'iam-tls', 'k')).toBe('k');
    expect(await read(fixture, 'iam-tls', 'k')).toBe('k');
  });
});

describe('SSE-KMS objects', () => {
  const keyArn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const viaS3 = { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } };

  it('is readable only with kms:Decrypt on its key, through S3 (kms:ViaService)', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'iam-kms' }));
    await fixture.s3.send(
      new PutObjectCommand({
        Bucket: 'iam-kms',
        Key: 'device.key',
        Body: 'secret',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyArn,
        BucketKeyEnabled: true,
      }),
    );
    const read_ = allow('s3:GetObject', 'arn:aws:s3:::iam-kms/*');
    const noKms = await roleSession('kms-none', { Read: read_ });
    expect(await failure(read(noKms, 'iam-kms', 'device.key'))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    const otherService = await roleSession('kms-via-ec2', {
      Read: read_,
      Key: allow('kms:Decrypt', keyArn, {
        StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' },
      }),
    });
    expect(await failure(read(otherService, 'iam-kms', 'device.key'))).toMatchObject({
      name: 'AccessDenied',
    });
    const throughS3 = await roleSession('kms-via-s3', {
      Read: read_,
      Key: allow('kms:Decrypt', keyArn, viaS3),
    });
    expect(await read(throughS3, 'iam-kms', 'device.key')).toBe('secret');
    // HeadObject reads no data: S3 calls no KMS for it.
    await noKms.s3.send(new HeadObjectCommand({ Bucket: 'iam-kms', Key: 'device.key' }));
  });

  it('needs kms:GenerateDataKey to write one, and a refused write stores nothing', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'iam-kms-write' }));
    const put = (clients: { s3: IdentityClients['s3'] }) =>
      clients.s3.send(
        new PutObjectCommand({
          Bucket: 'iam-kms-write',
          Key: 'k',
          Body: 'v',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: keyArn,
        }),
      );
    const write = allow('s3:PutObject', 'arn:aws:s3:::iam-kms-write/*');
    const without = await roleSession('kms-writer-without', { Write: write });
    const refused = await failure(put(without));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toContain(`kms:GenerateDataKey on resource: "${keyArn}"`);
    expect(
      await failure(fixture.s3.send(new HeadObjectCommand({ Bucket: 'iam-kms-write', Key: 'k' }))),
    ).toMatchObject({ status: 404 });
    const withKey = await roleSession('kms-writer', {
      Write: write,
      Key: allow('kms:GenerateDataKey', keyArn, viaS3),
    });
    await put(withKey);
  });

  it('follows the key policy: one that does not trust the account ignores identity policies', async () => {
    const keyId = 'aaaaaaaa-0000-4000-8000-000000000001';
    const { keyArn: lockedArn } = await fixture.cloud.iam.putKmsKey({
      keyId,
      aliases: ['alias/locked'],
      keyPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/someone-else` },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      },
    });
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'iam-kms-locked' }));
    await fixture.s3.send(
      new PutObjectCommand({
        Bucket: 'iam-kms-locked',
        Key: 'k',
        Body: 'v',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/locked',
      }),
    );
    const role = await roleSession('kms-untrusted', {
      Read: allow('s3:GetObject', '*'),
      Key: allow('kms:Decrypt', lockedArn),
    });
    expect(await failure(read(role, 'iam-kms-locked', 'k'))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
  });
});
