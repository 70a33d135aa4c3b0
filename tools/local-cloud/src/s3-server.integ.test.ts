import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startCloudFixture, type CloudFixture } from '../test/helpers';

let fixture: CloudFixture;
beforeAll(async () => {
  fixture = await startCloudFixture();
});
afterAll(async () => {
  await fixture.stop();
});

describe('S3 with default SDK settings', () => {
  // A list of independent S3 cases over 150 lines, not one long procedure.
  it('stores a streamed body (aws-chunked with a trailing checksum) byte for byte, with SSE and content type', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'stream-bucket' }));
    const parts = [Buffer.alloc(70_000, 1), Buffer.from('middle'), Buffer.alloc(5, 2)];
    const expected = Buffer.concat(parts);
    const put = await fixture.s3.send(
      new PutObjectCommand({
        Bucket: 'stream-bucket',
        Key: 'dir/obj name.bin',
        Body: Readable.from(parts),
        ContentLength: expected.length,
        ContentType: 'application/x-test',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:aws:kms:us-east-1:000000000000:key/k',
      }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.ServerSideEncryption).toBe('aws:kms');
    const got = await fixture.s3.send(
      new GetObjectCommand({ Bucket: 'stream-bucket', Key: 'dir/obj name.bin' }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(expected);
    expect(got).toMatchObject({
      ContentType: 'application/x-test',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:000000000000:key/k',
      ContentLength: expected.length,
    });
    const head = await fixture.s3.send(
      new HeadObjectCommand({ Bucket: 'stream-bucket', Key: 'dir/obj name.bin' }),
    );
    expect(head.ETag).toBe(put.ETag);
  });

  it('honours If-None-Match: * (412 PreconditionFailed when the key exists)', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'cond-bucket' }));
    await fixture.s3.send(
      new PutObjectCommand({ Bucket: 'cond-bucket', Key: 'k', Body: 'one', IfNoneMatch: '*' }),
    );
    expect(
      await failure(
        fixture.s3.send(
          new PutObjectCommand({ Bucket: 'cond-bucket', Key: 'k', Body: 'two', IfNoneMatch: '*' }),
        ),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    const got = await fixture.s3.send(new GetObjectCommand({ Bucket: 'cond-bucket', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('one');
  });

  it('lists with prefix, delimiter and continuation-token paging', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'list-bucket' }));
    const keys = ['a/1', 'a/2', 'b/1', 'c', 'd', 'e'];
    await Promise.all(
      keys.map((Key) =>
        fixture.s3.send(new PutObjectCommand({ Bucket: 'list-bucket', Key, Body: Key })),
      ),
    );
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await fixture.s3.send(
        new ListObjectsV2Command({ Bucket: 'list-bucket', MaxKeys: 2, ContinuationToken: token }),
      );
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
      pages++;
    } while (token !== undefined);
    expect(seen).toEqual(keys);
    expect(pages).toBe(3);
    const grouped = await fixture.s3.send(
      new ListObjectsV2Command({ Bucket: 'list-bucket', Delimiter: '/' }),
    );
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/']);
    expect(grouped.Contents?.map((o) => o.Key)).toEqual(['c', 'd', 'e']);
    const prefixed = await fixture.s3.send(
      new ListObjectsV2Command({ Bucket: 'list-bucket', Prefix: 'a/' }),
    );
    expect(prefixed.Contents?.map((o) => o.Key)).toEqual(['a/1', 'a/2']);
    const groupedPaged = await fixture.s3.send(
      new ListObjectsV2Command({ Bucket: 'list-bucket', Delimiter: '/', MaxKeys: 1 }),
    );
    const next = await fixture.s3.send(
      new ListObjectsV2Command({
        Bucket: 'list-bucket',
        Delimiter: '/',
        MaxKeys: 1,
        ContinuationToken: groupedPaged.NextContinuationToken,
      }),
    );
    expect([groupedPaged.CommonPrefixes?.[0]?.Prefix, next.CommonPrefixes?.[0]?.Prefix]).toEqual([
      'a/',
      'b/',
    ]);
  });

  it('deletes objects singly and in batches, then the empty bucket', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'del-bucket' }));
    await Promise.all(
      ['x', 'y', 'z&<'].map((Key) =>
        fixture.s3.send(new PutObjectCommand({ Bucket: 'del-bucket', Key, Body: Key })),
      ),
    );
    expect(
      await failure(fixture.s3.send(new DeleteBucketCommand({ Bucket: 'del-bucket' }))),
    ).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await fixture.s3.send(new DeleteObjectCommand({ Bucket: 'del-bucket', Key: 'x' }));
    const batch = await fixture.s3.send(
      new DeleteObjectsCommand({
        Bucket: 'del-bucket',
        Delete: { Objects: [{ Key: 'y' }, { Key: 'z&<' }] },
      }),
    );
    expect(batch.Deleted?.map((d) => d.Key).sort()).toEqual(['y', 'z&<']);
    await fixture.s3.send(new DeleteBucketCommand({ Bucket: 'del-bucket' }));
    expect(
      await failure(fixture.s3.send(new HeadBucketCommand({ Bucket: 'del-bucket' }))),
    ).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
  });

  it('answers S3 errors: NoSuchKey, NoSuchBucket, NotFound on HEAD, BucketAlreadyOwnedByYou', async () => {
    await fixture.s3.send(new CreateBucketCommand({ Bucket: 'err-bucket' }));
    await fixture.s3.send(new HeadBucketCommand({ Bucket: 'err-bucket' }));
    expect(
      await failure(
        fixture.s3.send(new GetObjectCommand({ Bucket: 'err-bucket', Key: 'missing' })),
      ),
    ).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(
      await failure(
        fixture.s3.send(new HeadObjectCommand({ Bucket: 'err-bucket', Key: 'missing' })),
      ),
    ).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
    expect(
      await failure(fixture.s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' }))),
    ).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
    expect(
      await failure(fixture.s3.send(new CreateBucketCommand({ Bucket: 'err-bucket' }))),
    ).toMatchObject({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    });
  });
});
