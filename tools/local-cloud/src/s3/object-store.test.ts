import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { S3ObjectStore, type StoredObject } from './object-store';

function object(key: string, text: string): StoredObject {
  return { key, body: Buffer.from(text), etag: 'e', lastModified: 1, headers: { a: 'b' } };
}

describe('Class: S3ObjectStore', () => {
  it('answers NoSuchBucket for a bucket it does not have', async () => {
    const store = await S3ObjectStore.open(undefined);
    expect(() => store.bucket('nope')).toThrow(
      expect.objectContaining({ code: 'NoSuchBucket', status: 404 }),
    );
  });

  it('reopens buckets and objects kept under stateDir, without deleted ones (files 0600)', async () => {
    // Prepare
    const stateDir = await mkdtemp(join(tmpdir(), 's3-store-'));
    onTestFinished(() => rm(stateDir, { recursive: true, force: true }));
    const first = await S3ObjectStore.open(stateDir);
    await first.createBucket('kept');
    await first.createBucket('gone');
    await first.bucket('kept').put(object('dir/a.bin', 'A'));
    await first.bucket('kept').put(object('b', 'B'));
    await first.bucket('kept').delete('b');
    await first.deleteBucket('gone');

    // Act
    const second = await S3ObjectStore.open(stateDir);

    // Assess
    expect(second.bucketNames()).toEqual(['kept']);
    expect(second.bucket('kept').keys()).toEqual(['dir/a.bin']);
    expect(second.bucket('kept').get('dir/a.bin')).toEqual(object('dir/a.bin', 'A'));
    expect((await stat(join(stateDir, 's3'))).mode & 0o777).toBe(0o700);
  });
});
