import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3ServiceError } from '../errors';
import type { S3Call, S3Handlers } from './handler';
import type { S3ObjectStore, StoredObject } from './object-store';
import { readObjectBody } from './request-body';
import { deleteResultXml, sendXml } from './xml-responses';
import { unescapeXml } from './xml-text';

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

/** Handlers of PutObject, GetObject, HeadObject, DeleteObject and DeleteObjects. */
export function objectHandlers(store: S3ObjectStore): S3Handlers {
  const getOrHead = async (call: S3Call): Promise<number> => {
    const { req, res, bucketName, key } = call;
    const object = store.bucket(bucketName).get(key);
    if (object === undefined) {
      // S3 tells a caller that a key does not exist only if it may list the bucket.
      const mayList = await call.access.allows({
        action: 's3:ListBucket',
        resource: `arn:aws:s3:::${bucketName}`,
        context: call.commonContext,
      });
      if (!mayList) throw new S3ServiceError('AccessDenied', 403, 'Access Denied');
      throw new S3ServiceError('NoSuchKey', 404, 'The specified key does not exist.', {
        Key: key,
      });
    }
    if (call.operation === 'GetObject' && isKmsEncrypted(object.headers)) {
      await call.access.requireKms('kms:Decrypt', object.headers[SSE_KEY_HEADER], {
        bucket: bucketName,
        key,
        bucketKeyEnabled: object.headers[BUCKET_KEY_HEADER] === 'true',
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
    res.end(call.operation === 'GetObject' ? object.body : undefined);
    return 200;
  };
  return {
    PutObject: async ({ req, res, bucketName, key, access }) => {
      const bucket = store.bucket(bucketName);
      const requested = keptHeaders(req.headers);
      if (isKmsEncrypted(requested)) {
        await access.requireKms('kms:GenerateDataKey', requested[SSE_KEY_HEADER], {
          bucket: bucketName,
          key,
          bucketKeyEnabled: requested[BUCKET_KEY_HEADER] === 'true',
        });
      }
      const body = await readObjectBody(req);
      requirePutPreconditions(req.headers, bucket.get(key), key);
      const object: StoredObject = {
        key,
        body,
        etag: createHash('md5').update(body).digest('hex'),
        lastModified: Date.now(),
        headers: requested,
      };
      await bucket.put(object);
      res
        .writeHead(200, { etag: `"${object.etag}"`, 'content-length': 0, ...sseHeaders(object) })
        .end();
      return 200;
    },
    GetObject: getOrHead,
    HeadObject: getOrHead,
    DeleteObject: async ({ res, bucketName, key }) => {
      await store.bucket(bucketName).delete(key);
      res.writeHead(204).end();
      return 204;
    },
    DeleteObjects: async ({ req, res, bucketName, access, commonContext }) => {
      const bucket = store.bucket(bucketName);
      const xml = (await readObjectBody(req)).toString('utf8');
      const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ''));
      const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
      if (keys.length === 0 && !/<Delete/.test(xml)) {
        throw new S3ServiceError(
          'MalformedXML',
          400,
          'The XML you provided was not well-formed or did not validate against our published schema',
        );
      }
      // Each key needs s3:DeleteObject; S3 deletes the allowed ones and reports the others.
      const deleted: string[] = [];
      const denied: string[] = [];
      for (const k of keys) {
        const allowed = await access.allows({
          action: 's3:DeleteObject',
          resource: `arn:aws:s3:::${bucketName}/${k}`,
          context: commonContext,
        });
        (allowed ? deleted : denied).push(k);
      }
      for (const k of deleted) await bucket.delete(k);
      return sendXml(res, 200, deleteResultXml(deleted, quiet, denied));
    },
  };
}

/** `If-None-Match: *` (create only) and `If-Match: <etag>` (replace only), as S3 checks them. */
function requirePutPreconditions(
  headers: IncomingHttpHeaders,
  existing: StoredObject | undefined,
  key: string,
): void {
  if (headers['if-none-match'] === '*' && existing !== undefined) {
    throw new S3ServiceError(
      'PreconditionFailed',
      412,
      'At least one of the pre-conditions you specified did not hold',
      { Condition: 'If-None-Match' },
    );
  }
  const ifMatch = headers['if-match'];
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
}

const SSE_HEADER = 'x-amz-server-side-encryption';
const SSE_KEY_HEADER = 'x-amz-server-side-encryption-aws-kms-key-id';
const BUCKET_KEY_HEADER = 'x-amz-server-side-encryption-bucket-key-enabled';

/** SSE-KMS (or DSSE-KMS): reading and writing it needs KMS permissions too. */
function isKmsEncrypted(headers: Record<string, string>): boolean {
  return headers[SSE_HEADER]?.startsWith('aws:kms') === true;
}

function keptHeaders(requestHeaders: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(requestHeaders)) {
    if (typeof value !== 'string') continue;
    if (KEPT_HEADERS.includes(name) || name.startsWith('x-amz-meta-')) headers[name] = value;
  }
  headers['content-type'] ??= 'application/octet-stream';
  return headers;
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
