import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { S3ServiceError } from './errors';
import {
  BodyTooLargeError,
  readBody,
  requestLogLine,
  startHttpService,
  type HttpService,
} from './http-service';

/** Largest object the local S3 accepts in one PUT. */
export const MAX_S3_OBJECT_BYTES = 64 * 1024 * 1024;

/** Options for {@link startS3Server}. */
export interface S3ServerOptions {
  port: number;
  region: string;
  /** Keep buckets and objects under this directory. */
  stateDir: string | undefined;
  log: ((line: string) => void) | undefined;
}

interface StoredObject {
  key: string;
  body: Buffer;
  etag: string;
  lastModified: number;
  headers: Record<string, string>;
}

/** Request headers stored with an object and echoed on GET/HEAD. */
const KEPT_HEADERS = [
  'content-type',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-bucket-key-enabled',
  'x-amz-storage-class',
  'x-amz-tagging-count',
];
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * A focused in-process S3: the bucket and object operations thingcert uses,
 * speaking what `@aws-sdk/client-s3` sends with default settings
 * (aws-chunked streaming bodies with trailing checksums, path-style requests).
 */
export async function startS3Server(options: S3ServerOptions): Promise<HttpService> {
  const buckets = new Map<string, Map<string, StoredObject>>();
  const root = options.stateDir === undefined ? undefined : join(options.stateDir, 's3');
  if (root !== undefined) await load(root, buckets);

  const persistObject = async (bucket: string, object: StoredObject | undefined, key: string) => {
    if (root === undefined) return;
    const dir = join(root, hex(bucket));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const base = join(dir, createHash('sha256').update(key).digest('hex'));
    if (object === undefined) {
      await rm(`${base}.json`, { force: true });
      await rm(`${base}.bin`, { force: true });
      return;
    }
    await writeFile(`${base}.bin`, object.body, { mode: 0o600 });
    const { body: _body, ...meta } = object;
    await writeFile(`${base}.json`, JSON.stringify(meta), { mode: 0o600 });
  };
  const persistBucket = async (bucket: string, exists: boolean) => {
    if (root === undefined) return;
    const dir = join(root, hex(bucket));
    if (exists) await mkdir(dir, { recursive: true, mode: 0o700 });
    else await rm(dir, { recursive: true, force: true });
  };

  const bucketOf = (name: string) => {
    const bucket = buckets.get(name);
    if (bucket === undefined) {
      throw new S3ServiceError('NoSuchBucket', 404, 'The specified bucket does not exist', {
        BucketName: name,
      });
    }
    return bucket;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { bucket: bucketName, key } = parseTarget(req, url);
    let operation = 'Unknown';
    let status: number;
    let errorCode: string | undefined;
    try {
      operation = operationName(method, bucketName, key, url.searchParams);
      const signed =
        String(req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256') ||
        url.searchParams.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256';
      if (!signed) {
        throw new S3ServiceError(
          'AccessDenied',
          403,
          'Access Denied: requests must be signed with SigV4',
        );
      }
      status = await dispatch(operation, req, res, bucketName ?? '', key ?? '', url.searchParams);
    } catch (error) {
      if (!(error instanceof S3ServiceError)) throw error;
      status = error.status;
      errorCode = error.code;
      sendError(res, method, error, url.pathname);
    }
    options.log?.(
      requestLogLine({
        service: 's3',
        operation,
        method,
        status,
        error: errorCode,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      }),
    );
  };

  const dispatch = async (
    operation: string,
    req: IncomingMessage,
    res: ServerResponse,
    bucketName: string,
    key: string,
    query: URLSearchParams,
  ): Promise<number> => {
    switch (operation) {
      case 'ListBuckets': {
        const names = [...buckets.keys()].sort();
        const xml =
          '<ListAllMyBucketsResult><Owner><ID>local</ID></Owner><Buckets>' +
          names
            .map(
              (n) =>
                `<Bucket><Name>${esc(n)}</Name><CreationDate>${new Date(0).toISOString()}</CreationDate></Bucket>`,
            )
            .join('') +
          '</Buckets></ListAllMyBucketsResult>';
        return sendXml(res, 200, xml);
      }
      case 'CreateBucket': {
        await drain(req);
        if (!BUCKET_NAME.test(bucketName)) {
          throw new S3ServiceError('InvalidBucketName', 400, 'The specified bucket is not valid.', {
            BucketName: bucketName,
          });
        }
        if (buckets.has(bucketName)) {
          throw new S3ServiceError(
            'BucketAlreadyOwnedByYou',
            409,
            'Your previous request to create the named bucket succeeded and you already own it.',
            { BucketName: bucketName },
          );
        }
        buckets.set(bucketName, new Map());
        await persistBucket(bucketName, true);
        res.writeHead(200, { location: `/${bucketName}`, 'content-length': 0 }).end();
        return 200;
      }
      case 'HeadBucket': {
        bucketOf(bucketName);
        res.writeHead(200, { 'x-amz-bucket-region': options.region, 'content-length': 0 }).end();
        return 200;
      }
      case 'DeleteBucket': {
        const bucket = bucketOf(bucketName);
        if (bucket.size > 0) {
          throw new S3ServiceError(
            'BucketNotEmpty',
            409,
            'The bucket you tried to delete is not empty',
            { BucketName: bucketName },
          );
        }
        buckets.delete(bucketName);
        await persistBucket(bucketName, false);
        res.writeHead(204).end();
        return 204;
      }
      case 'PutObject': {
        const bucket = bucketOf(bucketName);
        const body = await readObjectBody(req);
        const existing = bucket.get(key);
        if (req.headers['if-none-match'] === '*' && existing !== undefined) {
          throw new S3ServiceError(
            'PreconditionFailed',
            412,
            'At least one of the pre-conditions you specified did not hold',
            { Condition: 'If-None-Match' },
          );
        }
        const ifMatch = req.headers['if-match'];
        if (
          typeof ifMatch === 'string' &&
          (existing === undefined || existing.etag !== ifMatch.replace(/"/g, ''))
        ) {
          if (existing === undefined)
            throw new S3ServiceError('NoSuchKey', 404, 'The specified key does not exist.', {
              Key: key,
            });
          throw new S3ServiceError(
            'PreconditionFailed',
            412,
            'At least one of the pre-conditions you specified did not hold',
            { Condition: 'If-Match' },
          );
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value !== 'string') continue;
          if (KEPT_HEADERS.includes(name) || name.startsWith('x-amz-meta-')) headers[name] = value;
        }
        headers['content-type'] ??= 'application/octet-stream';
        const object: StoredObject = {
          key,
          body,
          etag: createHash('md5').update(body).digest('hex'),
          lastModified: Date.now(),
          headers,
        };
        bucket.set(key, object);
        await persistObject(bucketName, object, key);
        res
          .writeHead(200, { etag: `"${object.etag}"`, 'content-length': 0, ...sseHeaders(object) })
          .end();
        return 200;
      }
      case 'GetObject':
      case 'HeadObject': {
        const object = bucketOf(bucketName).get(key);
        if (object === undefined) {
          throw new S3ServiceError('NoSuchKey', 404, 'The specified key does not exist.', {
            Key: key,
          });
        }
        const ifNoneMatch = req.headers['if-none-match'];
        if (typeof ifNoneMatch === 'string' && ifNoneMatch.replace(/"/g, '') === object.etag) {
          res.writeHead(304, { etag: `"${object.etag}"` }).end();
          return 304;
        }
        res.writeHead(200, {
          ...object.headers,
          etag: `"${object.etag}"`,
          'last-modified': new Date(object.lastModified).toUTCString(),
          'content-length': object.body.length,
          'accept-ranges': 'bytes',
        });
        res.end(operation === 'GetObject' ? object.body : undefined);
        return 200;
      }
      case 'DeleteObject': {
        const bucket = bucketOf(bucketName);
        bucket.delete(key);
        await persistObject(bucketName, undefined, key);
        res.writeHead(204).end();
        return 204;
      }
      case 'DeleteObjects': {
        const bucket = bucketOf(bucketName);
        const xml = (await readObjectBody(req)).toString('utf8');
        const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unesc(m[1] ?? ''));
        const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
        if (keys.length === 0 && !/<Delete/.test(xml)) {
          throw new S3ServiceError(
            'MalformedXML',
            400,
            'The XML you provided was not well-formed or did not validate against our published schema',
          );
        }
        for (const k of keys) {
          bucket.delete(k);
          await persistObject(bucketName, undefined, k);
        }
        const deleted = quiet
          ? ''
          : keys.map((k) => `<Deleted><Key>${esc(k)}</Key></Deleted>`).join('');
        return sendXml(res, 200, `<DeleteResult>${deleted}</DeleteResult>`);
      }
      case 'ListObjectsV2':
        return sendXml(res, 200, listObjectsV2(bucketName, bucketOf(bucketName), query));
      default:
        await drain(req);
        throw new S3ServiceError(
          'NotImplemented',
          501,
          `local-cloud S3 does not emulate ${req.method} ${req.url?.split('?')[0]} (${operation})`,
        );
    }
  };

  return startHttpService(options.port, handle, (error) =>
    options.log?.(requestLogLine({ service: 's3', fault: String(error) })),
  );
}

function parseTarget(req: IncomingMessage, url: URL): { bucket?: string; key?: string } {
  const host = (req.headers.host ?? '').split(':')[0] ?? '';
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  // Virtual-hosted style (`bucket.localhost`) when someone points the SDK at a host name.
  const virtual = /^(.+)\.localhost$/.exec(host);
  if (virtual?.[1] !== undefined) {
    const key = rawPath.slice(1);
    return { bucket: virtual[1], key: key.length === 0 ? undefined : decodeKey(key) };
  }
  void url;
  const path = rawPath.slice(1);
  if (path.length === 0) return {};
  const slash = path.indexOf('/');
  if (slash === -1) return { bucket: decodeKey(path) };
  const key = path.slice(slash + 1);
  return {
    bucket: decodeKey(path.slice(0, slash)),
    key: key.length === 0 ? undefined : decodeKey(key),
  };
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3ServiceError('InvalidURI', 400, "Couldn't parse the specified URI.");
  }
}

function operationName(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
): string {
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : `${method} /`;
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        return query.size === 0 ? 'CreateBucket' : `PutBucket?${[...query.keys()].join('&')}`;
      case 'HEAD':
        return 'HeadBucket';
      case 'DELETE':
        return query.size === 0 ? 'DeleteBucket' : `DeleteBucket?${[...query.keys()].join('&')}`;
      case 'POST':
        return query.has('delete') ? 'DeleteObjects' : 'PostBucket';
      case 'GET':
        return query.get('list-type') === '2'
          ? 'ListObjectsV2'
          : `GetBucket?${[...query.keys()].join('&')}`;
      default:
        return `${method} bucket`;
    }
  }
  const sub = [...query.keys()].filter((k) => !k.startsWith('X-Amz-') && k !== 'x-id');
  if (sub.length > 0) return `${method} object?${sub.join('&')}`;
  switch (method) {
    case 'PUT':
      return 'PutObject';
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return 'DeleteObject';
    default:
      return `${method} object`;
  }
}

/**
 * Reads a PUT body, undoing `aws-chunked` framing (what the SDK streams by
 * default with a trailing checksum) and checking a CRC32/SHA checksum if sent.
 */
async function readObjectBody(req: IncomingMessage): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readBody(req, MAX_S3_OBJECT_BYTES + 64 * 1024);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new S3ServiceError(
        'EntityTooLarge',
        400,
        'Your proposed upload exceeds the maximum allowed size',
      );
    }
    throw error;
  }
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  const chunked = encoding.includes('aws-chunked') || sha.startsWith('STREAMING-');
  const trailers: Record<string, string> = {};
  let body = raw;
  if (chunked) body = decodeAwsChunked(raw, trailers);
  const declared = req.headers['x-amz-decoded-content-length'];
  if (typeof declared === 'string' && Number(declared) !== body.length) {
    throw new S3ServiceError(
      'IncompleteBody',
      400,
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    );
  }
  if (body.length > MAX_S3_OBJECT_BYTES) {
    throw new S3ServiceError(
      'EntityTooLarge',
      400,
      'Your proposed upload exceeds the maximum allowed size',
    );
  }
  const checksums: Record<string, string> = { ...trailers };
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-checksum-') && typeof value === 'string') checksums[name] = value;
  }
  verifyChecksums(body, checksums);
  return body;
}

function decodeAwsChunked(raw: Buffer, trailers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const malformed = () =>
    new S3ServiceError('IncompleteBody', 400, 'The request body is not valid aws-chunked encoding');
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd === -1) throw malformed();
    const header = raw.subarray(offset, lineEnd).toString('latin1');
    const size = parseInt(header.split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size < 0) throw malformed();
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size > raw.length) throw malformed();
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
  // Trailing headers (`x-amz-checksum-crc32:...`), each on its own line, then an empty line.
  for (const line of raw.subarray(offset).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return Buffer.concat(parts);
}

function verifyChecksums(body: Buffer, checksums: Record<string, string>): void {
  for (const [name, expected] of Object.entries(checksums)) {
    let actual: string | undefined;
    if (name === 'x-amz-checksum-crc32') {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(crc32(body) >>> 0);
      actual = value.toString('base64');
    } else if (name === 'x-amz-checksum-sha256') {
      actual = createHash('sha256').update(body).digest('base64');
    } else if (name === 'x-amz-checksum-sha1') {
      actual = createHash('sha1').update(body).digest('base64');
    }
    // CRC32C / CRC64NVME: no implementation in node:zlib; accepted unchecked.
    if (actual !== undefined && actual !== expected) {
      throw new S3ServiceError(
        'BadDigest',
        400,
        `The ${name.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
  }
}

function listObjectsV2(
  name: string,
  bucket: Map<string, StoredObject>,
  query: URLSearchParams,
): string {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? '1000') || 0));
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after') ?? '';
  const urlEncode = query.get('encoding-type') === 'url';
  let after = startAfter;
  if (token !== null) {
    after = Buffer.from(token, 'base64url').toString('utf8');
  }
  const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const contents: StoredObject[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const key of keys) {
    let commonPrefix: string | undefined;
    if (delimiter.length > 0) {
      const index = key.indexOf(delimiter, prefix.length);
      if (index !== -1) commonPrefix = key.slice(0, index + delimiter.length);
    }
    if (commonPrefix !== undefined && prefixes.at(-1) === commonPrefix) {
      last = key;
      continue;
    }
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (commonPrefix !== undefined) prefixes.push(commonPrefix);
    else contents.push(bucket.get(key) as StoredObject);
    last = key;
  }
  // When a page ends inside a common prefix, skip the rest of that prefix next time.
  const resumeAfter =
    prefixes.length > 0 && last.startsWith(prefixes.at(-1) ?? '\u0000')
      ? `${prefixes.at(-1)}\uffff`
      : last;
  const enc = (s: string) => esc(urlEncode ? encodeURIComponent(s) : s);
  return (
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(name)}</Name>` +
    `<Prefix>${enc(prefix)}</Prefix>` +
    (delimiter.length > 0 ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '') +
    `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${contents.length + prefixes.length}</KeyCount>` +
    `<IsTruncated>${truncated}</IsTruncated>` +
    (urlEncode ? '<EncodingType>url</EncodingType>' : '') +
    (token !== null ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : '') +
    (truncated
      ? `<NextContinuationToken>${Buffer.from(resumeAfter).toString('base64url')}</NextContinuationToken>`
      : '') +
    (startAfter.length > 0 ? `<StartAfter>${enc(startAfter)}</StartAfter>` : '') +
    contents
      .map(
        (o) =>
          `<Contents><Key>${enc(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified>` +
          `<ETag>"${o.etag}"</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('') +
    prefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`).join('') +
    '</ListBucketResult>'
  );
}

function sseHeaders(object: StoredObject): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of [
    'x-amz-server-side-encryption',
    'x-amz-server-side-encryption-aws-kms-key-id',
  ]) {
    const value = object.headers[name];
    if (value !== undefined) result[name] = value;
  }
  return result;
}

function sendXml(res: ServerResponse, status: number, xml: string): number {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    'x-amz-request-id': randomUUID(),
  });
  res.end(text);
  return status;
}

function sendError(
  res: ServerResponse,
  method: string,
  error: S3ServiceError,
  resource: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (method === 'HEAD') {
    // HEAD responses have no body; the SDK names the error from the status (NotFound...).
    res.writeHead(error.status, { 'x-amz-request-id': randomUUID() }).end();
    return;
  }
  const extra = Object.entries(error.extra)
    .map(([k, v]) => `<${k}>${esc(v)}</${k}>`)
    .join('');
  sendXml(
    res,
    error.status,
    `<Error><Code>${error.code}</Code><Message>${esc(error.message)}</Message>${extra}<Resource>${esc(resource)}</Resource><RequestId>${randomUUID()}</RequestId></Error>`,
  );
}

async function drain(req: IncomingMessage): Promise<void> {
  await readBody(req, MAX_S3_OBJECT_BYTES).catch(() => Buffer.alloc(0));
}

async function load(root: string, buckets: Map<string, Map<string, StoredObject>>): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  for (const dir of await readdir(root)) {
    const bucket = new Map<string, StoredObject>();
    buckets.set(Buffer.from(dir, 'hex').toString('utf8'), bucket);
    for (const file of await readdir(join(root, dir))) {
      if (!file.endsWith('.json')) continue;
      const meta = JSON.parse(await readFile(join(root, dir, file), 'utf8')) as Omit<
        StoredObject,
        'body'
      >;
      const body = await readFile(join(root, dir, file.replace(/\.json$/, '.bin')));
      bucket.set(meta.key, { ...meta, body });
    }
  }
}

function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unesc(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
