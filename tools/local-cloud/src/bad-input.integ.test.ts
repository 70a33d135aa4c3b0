import { ListThingsCommand } from '@aws-sdk/client-iot';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudFixture, type CloudFixture } from '../test/helpers';

let fixture: CloudFixture;
beforeAll(async () => {
  fixture = await startCloudFixture();
});
afterAll(async () => {
  await fixture.stop();
});

const signed = {
  authorization: 'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/iot/aws4_request, Signature=0',
};

function call(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = signed,
): Promise<{ status: number; errorType?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          errorType: res.headers['x-amzn-errortype'] as string | undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('IoT control plane bad input', () => {
  it('answers malformed JSON with a SerializationException, not a crash', async () => {
    const res = await call(fixture.cloud.iotEndpoint, 'POST', '/policies/p1', '{"policyDocument":');
    expect(res).toMatchObject({ status: 400, errorType: 'SerializationException' });
    expect(JSON.parse(res.body)).toEqual({ message: 'Request body is not valid JSON' });
  });

  it('names the method and path of an unknown route', async () => {
    const res = await call(fixture.cloud.iotEndpoint, 'GET', '/no/such/route');
    expect(res.status).toBe(404);
    expect(res.errorType).toBe('UnknownOperationException');
    expect((JSON.parse(res.body) as { message: string }).message).toContain('GET /no/such/route');
  });

  it('answers a wrong method on a known path with 405 and the allowed methods', async () => {
    const res = await call(fixture.cloud.iotEndpoint, 'PATCH', '/things/t1');
    expect(res.status).toBe(405);
    expect((JSON.parse(res.body) as { message: string }).message).toMatch(
      /PATCH \/things\/t1.*POST, GET, DELETE/,
    );
  });

  it('refuses oversized bodies with 413', async () => {
    const res = await call(
      fixture.cloud.iotEndpoint,
      'POST',
      '/policies/big',
      Buffer.alloc(300 * 1024, 0x20),
    );
    expect(res).toMatchObject({ status: 413, errorType: 'RequestEntityTooLargeException' });
  });

  it('refuses unsigned requests', async () => {
    const res = await call(fixture.cloud.iotEndpoint, 'GET', '/things', undefined, {});
    expect(res).toMatchObject({ status: 403, errorType: 'MissingAuthenticationTokenException' });
  });

  it('stays up after all of it', async () => {
    const listed = await fixture.iot.send(new ListThingsCommand({}));
    expect(listed.things).toBeInstanceOf(Array);
  });
});

describe('S3 bad input', () => {
  it('names operations it does not emulate with 501 NotImplemented', async () => {
    const res = await call(fixture.cloud.s3Endpoint, 'GET', '/some-bucket?acl', undefined, signed);
    expect(res.status).toBe(501);
    expect(res.body).toContain('<Code>NotImplemented</Code>');
    expect(res.body).toContain('GET /some-bucket');
  });

  it('refuses unsigned requests with AccessDenied', async () => {
    const res = await call(fixture.cloud.s3Endpoint, 'GET', '/', undefined, {});
    expect(res.status).toBe(403);
    expect(res.body).toContain('<Code>AccessDenied</Code>');
  });

  it('rejects a corrupted aws-chunked body', async () => {
    await call(fixture.cloud.s3Endpoint, 'PUT', '/chunk-bucket', undefined, signed);
    const res = await call(fixture.cloud.s3Endpoint, 'PUT', '/chunk-bucket/k', 'zz\r\nnope', {
      ...signed,
      'content-encoding': 'aws-chunked',
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>IncompleteBody</Code>');
  });
});
