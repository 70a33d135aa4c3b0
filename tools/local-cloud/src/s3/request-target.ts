import type { IncomingMessage } from 'node:http';
import { S3ServiceError } from '../errors';

/** The bucket and key a request names; both absent for the service (ListBuckets). */
export interface S3Target {
  bucket?: string;
  key?: string;
}

/**
 * The bucket and key of a request, path style (`/bucket/key`, what the SDK
 * sends to an IP endpoint) or virtual-hosted style (`bucket.localhost/key`).
 * @throws S3ServiceError `InvalidURI` for malformed percent-encoding.
 */
export function parseTarget(req: IncomingMessage): S3Target {
  const host = (req.headers.host ?? '').split(':')[0] ?? '';
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  // Virtual-hosted style (`bucket.localhost`) when someone points the SDK at a host name.
  const virtual = /^(.+)\.localhost$/.exec(host);
  if (virtual?.[1] !== undefined) {
    const key = rawPath.slice(1);
    return { bucket: virtual[1], key: key.length === 0 ? undefined : decodeKey(key) };
  }
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

/**
 * The S3 operation a request asks for, from its method, target and query
 * (`?list-type=2`, `?delete`, ...). Operations the local S3 does not emulate
 * get a descriptive name (`PutBucket?policy`) for the log and the 501 answer.
 */
export function operationName(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
): string {
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : `${method} /`;
  if (key === undefined) return bucketOperationName(method, query);
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

function bucketOperationName(method: string, query: URLSearchParams): string {
  if (query.has('policy') && ['PUT', 'GET', 'DELETE'].includes(method)) {
    return `${method === 'PUT' ? 'Put' : method === 'GET' ? 'Get' : 'Delete'}BucketPolicy`;
  }
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
