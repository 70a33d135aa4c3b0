import { describe, expect, it } from 'vitest';
import { claimedAccessKeyId, expectedSignature, parseSigV4, SigV4FormatError } from './sigv4';

// The worked examples of the S3 API reference ("Signature calculations for the Authorization
// header" and "Authenticating Requests: Using Query Parameters"), with AWS's example credentials.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('Function: expectedSignature', () => {
  it("reproduces AWS's header-signed GET Object example", () => {
    const request = {
      method: 'GET',
      rawUrl: '/test.txt',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY_SHA,
        'x-amz-date': '20130524T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      },
    };
    const parts = parseSigV4(request);
    expect(parts).toMatchObject({
      style: 'header',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      region: 'us-east-1',
      service: 's3',
    });
    expect(
      expectedSignature(parts, request, SECRET, {
        doubleEncodePath: false,
        payloadHash: EMPTY_SHA,
      }),
    ).toBe(parts.signature);
    expect(
      expectedSignature(parts, request, `${SECRET}x`, {
        doubleEncodePath: false,
        payloadHash: EMPTY_SHA,
      }),
    ).not.toBe(parts.signature);
  });

  it("reproduces AWS's presigned URL example (payload UNSIGNED-PAYLOAD, X-Amz-Signature left out)", () => {
    const request = {
      method: 'GET',
      rawUrl:
        '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host: 'examplebucket.s3.amazonaws.com' },
    };
    const parts = parseSigV4(request);
    expect(parts).toMatchObject({ style: 'query', expiresSeconds: 86400 });
    expect(claimedAccessKeyId(request)).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(
      expectedSignature(parts, request, SECRET, {
        doubleEncodePath: false,
        payloadHash: 'UNSIGNED-PAYLOAD',
      }),
    ).toBe(parts.signature);
  });
});

describe('Function: parseSigV4', () => {
  const base = { method: 'GET', rawUrl: '/', headers: { 'x-amz-date': '20260101T000000Z' } };

  it('refuses a header without SignedHeaders, a short signature or a scope of another day', () => {
    for (const authorization of [
      'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/iot/aws4_request, Signature=0',
      `AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=abc`,
      `AWS4-HMAC-SHA256 Credential=x/20251231/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
      `AWS4-HMAC-SHA256 Credential=x/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
    ]) {
      expect(() => parseSigV4({ ...base, headers: { ...base.headers, authorization } })).toThrow(
        SigV4FormatError,
      );
    }
  });

  it('reads the access key id leniently, for the admin identity', () => {
    const authorization =
      'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/iot/aws4_request, Signature=0';
    expect(claimedAccessKeyId({ ...base, headers: { authorization } })).toBe('local');
    expect(claimedAccessKeyId(base)).toBeUndefined();
  });
});
