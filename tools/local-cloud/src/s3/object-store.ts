import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3ServiceError } from '../errors';

/** File in a bucket's directory that keeps its policy (no `.json` suffix: not an object). */
const POLICY_FILE = 'bucket-policy';

/** An object as the local S3 keeps it. */
export interface StoredObject {
  key: string;
  body: Buffer;
  /** MD5 of the body in hex, without quotes (S3's ETag for a single-part upload). */
  etag: string;
  /** Epoch milliseconds. */
  lastModified: number;
  /** Request headers kept with the object and echoed on GET/HEAD. */
  headers: Record<string, string>;
}

/**
 * One bucket: its objects in memory, written through to `dir` (one `.bin` and
 * one `.json` file per object, named by the SHA-256 of the key) when there is one.
 */
export class S3Bucket {
  private policyState: { text: string; document: Record<string, unknown> } | undefined;

  constructor(
    private readonly objects: Map<string, StoredObject>,
    private readonly dir: string | undefined,
  ) {}

  /** The bucket policy (parsed), evaluated with the identity policies of every role session. */
  get policy(): Record<string, unknown> | undefined {
    return this.policyState?.document;
  }

  /** The bucket policy as it was put (what GetBucketPolicy answers). */
  get policyText(): string | undefined {
    return this.policyState?.text;
  }

  /** Sets (or with undefined removes) the bucket policy and writes it through. */
  async setPolicy(text: string | undefined): Promise<void> {
    this.policyState =
      text === undefined
        ? undefined
        : { text, document: JSON.parse(text) as Record<string, unknown> };
    if (this.dir === undefined) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (text === undefined) await rm(join(this.dir, POLICY_FILE), { force: true });
    else await writeFile(join(this.dir, POLICY_FILE), text, { mode: 0o600 });
  }

  /** Number of objects. */
  get size(): number {
    return this.objects.size;
  }

  /** Every key, in no particular order. */
  keys(): string[] {
    return [...this.objects.keys()];
  }

  /** The object under `key`, if any. */
  get(key: string): StoredObject | undefined {
    return this.objects.get(key);
  }

  /** Stores (or replaces) an object and writes it through. */
  async put(object: StoredObject): Promise<void> {
    this.objects.set(object.key, object);
    if (this.dir === undefined) return;
    const base = await this.fileBase(object.key);
    await writeFile(`${base}.bin`, object.body, { mode: 0o600 });
    const { body: _body, ...meta } = object;
    await writeFile(`${base}.json`, JSON.stringify(meta), { mode: 0o600 });
  }

  /** Removes an object (no error when there is none, as S3's DeleteObject). */
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
    if (this.dir === undefined) return;
    const base = await this.fileBase(key);
    await rm(`${base}.json`, { force: true });
    await rm(`${base}.bin`, { force: true });
  }

  private async fileBase(key: string): Promise<string> {
    const dir = this.dir as string;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return join(dir, createHash('sha256').update(key).digest('hex'));
  }
}

/**
 * Buckets and their objects, in memory or kept under `stateDir/s3` (one
 * directory per bucket, named by the hex of its name) across restarts.
 */
export class S3ObjectStore {
  private readonly buckets = new Map<string, S3Bucket>();

  private constructor(private readonly root: string | undefined) {}

  /** An empty in-memory store, or the one kept under `stateDir`. */
  static async open(stateDir: string | undefined): Promise<S3ObjectStore> {
    const store = new S3ObjectStore(stateDir === undefined ? undefined : join(stateDir, 's3'));
    await store.load();
    return store;
  }

  /** Bucket names, sorted. */
  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  /** Whether a bucket of that name exists. */
  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /**
   * The bucket of that name.
   * @throws S3ServiceError `NoSuchBucket` (404) when there is none.
   */
  bucket(name: string): S3Bucket {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) {
      throw new S3ServiceError('NoSuchBucket', 404, 'The specified bucket does not exist', {
        BucketName: name,
      });
    }
    return bucket;
  }

  /** Adds an empty bucket (the caller checks that the name is valid and free). */
  async createBucket(name: string): Promise<void> {
    const dir = this.bucketDir(name);
    this.buckets.set(name, new S3Bucket(new Map(), dir));
    if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  /** Removes a bucket and whatever it kept on disk (the caller checks that it is empty). */
  async deleteBucket(name: string): Promise<void> {
    this.buckets.delete(name);
    const dir = this.bucketDir(name);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  private bucketDir(name: string): string | undefined {
    return this.root === undefined
      ? undefined
      : join(this.root, Buffer.from(name, 'utf8').toString('hex'));
  }

  private async load(): Promise<void> {
    const root = this.root;
    if (root === undefined) return;
    await mkdir(root, { recursive: true, mode: 0o700 });
    for (const dir of await readdir(root)) {
      const objects = new Map<string, StoredObject>();
      const bucket = new S3Bucket(objects, join(root, dir));
      this.buckets.set(Buffer.from(dir, 'hex').toString('utf8'), bucket);
      for (const file of await readdir(join(root, dir))) {
        if (file === POLICY_FILE)
          await bucket.setPolicy(await readFile(join(root, dir, file), 'utf8'));
        if (!file.endsWith('.json')) continue;
        const meta = JSON.parse(await readFile(join(root, dir, file), 'utf8')) as Omit<
          StoredObject,
          'body'
        >;
        const body = await readFile(join(root, dir, file.replace(/\.json$/, '.bin')));
        objects.set(meta.key, { ...meta, body });
      }
    }
  }
}
