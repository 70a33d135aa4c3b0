import { describe, expect, it } from 'vitest';
import { listObjectsV2 } from './list-objects';
import { S3Bucket, type StoredObject } from './object-store';

function bucketWith(keys: string[]): S3Bucket {
  const objects = new Map<string, StoredObject>(
    keys.map((key) => [
      key,
      { key, body: Buffer.alloc(0), etag: '', lastModified: 0, headers: {} },
    ]),
  );
  return new S3Bucket(objects, undefined);
}

describe('Function: listObjectsV2', () => {
  const bucket = bucketWith(['a/1', 'a/2', 'b', 'c/1', 'd']);

  it('rolls keys up into common prefixes by delimiter', () => {
    const page = listObjectsV2(bucket, new URLSearchParams('delimiter=/'));
    expect(page.contents.map((o) => o.key)).toEqual(['b', 'd']);
    expect(page.commonPrefixes).toEqual(['a/', 'c/']);
    expect(page.truncated).toBe(false);
  });

  it('pages with max-keys and continues after a common prefix without repeating it', () => {
    // Act
    const first = listObjectsV2(bucket, new URLSearchParams('delimiter=/&max-keys=1'));
    const second = listObjectsV2(
      bucket,
      new URLSearchParams(`delimiter=/&max-keys=2&continuation-token=${first.nextToken}`),
    );

    // Assess
    expect(first.commonPrefixes).toEqual(['a/']);
    expect(first.truncated).toBe(true);
    expect(second.contents.map((o) => o.key)).toEqual(['b']);
    expect(second.commonPrefixes).toEqual(['c/']);
  });
});
