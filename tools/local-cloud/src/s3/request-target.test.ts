import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { operationName, parseTarget } from './request-target';

function request(url: string, host = '127.0.0.1:4566'): IncomingMessage {
  return { url, headers: { host } } as IncomingMessage;
}

describe('Function: parseTarget', () => {
  it('reads bucket and percent-decoded key path style, keeping slashes in the key', () => {
    expect(parseTarget(request('/my-bucket/a%20b/c.json?x-id=GetObject'))).toEqual({
      bucket: 'my-bucket',
      key: 'a b/c.json',
    });
    expect(parseTarget(request('/my-bucket/'))).toEqual({ bucket: 'my-bucket', key: undefined });
    expect(parseTarget(request('/'))).toEqual({});
  });

  it('reads the bucket from the host name virtual-hosted style', () => {
    expect(parseTarget(request('/k', 'my-bucket.localhost:4566'))).toEqual({
      bucket: 'my-bucket',
      key: 'k',
    });
  });

  it('refuses malformed percent-encoding with InvalidURI', () => {
    expect(() => parseTarget(request('/b/%E0%A4%A'))).toThrow(
      expect.objectContaining({ code: 'InvalidURI' }),
    );
  });
});

describe('Function: operationName', () => {
  const q = (text = '') => new URLSearchParams(text);

  it.each([
    ['GET', undefined, undefined, '', 'ListBuckets'],
    ['PUT', 'b', undefined, '', 'CreateBucket'],
    ['PUT', 'b', undefined, 'policy', 'PutBucketPolicy'],
    ['GET', 'b', undefined, 'policy', 'GetBucketPolicy'],
    ['DELETE', 'b', undefined, 'policy', 'DeleteBucketPolicy'],
    ['PUT', 'b', undefined, 'acl', 'PutBucket?acl'],
    ['POST', 'b', undefined, 'delete', 'DeleteObjects'],
    ['GET', 'b', undefined, 'list-type=2', 'ListObjectsV2'],
    ['GET', 'b', 'k', 'x-id=GetObject&X-Amz-Signature=s', 'GetObject'],
    ['PUT', 'b', 'k', 'tagging', 'PUT object?tagging'],
    ['HEAD', 'b', 'k', '', 'HeadObject'],
  ] as const)('%s bucket=%s key=%s ?%s is %s', (method, bucket, key, query, expected) => {
    expect(operationName(method, bucket, key, q(query))).toBe(expected);
  });
});
