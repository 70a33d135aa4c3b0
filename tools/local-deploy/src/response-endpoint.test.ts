import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ResponseEndpoint } from './response-endpoint';

function put(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-type': '' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const answer = {
  Status: 'SUCCESS',
  PhysicalResourceId: 'p',
  StackId: 's',
  RequestId: 'r',
  LogicalResourceId: 'L',
};

describe('Class: ResponseEndpoint', () => {
  const endpoint = new ResponseEndpoint();
  afterEach(() => endpoint.stop());

  it('delivers the first valid answer and counts later ones as duplicates', async () => {
    await endpoint.start();
    const expected = endpoint.expectAnswer();
    expect(await put(expected.url, JSON.stringify(answer))).toBe(200);
    expect(await put(expected.url, JSON.stringify({ ...answer, PhysicalResourceId: 'q' }))).toBe(
      200,
    );
    await expect(expected.answer).resolves.toMatchObject({ PhysicalResourceId: 'p' });
    expect(endpoint.duplicates).toHaveLength(1);
  });

  it('refuses what CloudFormation would refuse', async () => {
    await endpoint.start();
    const { url } = endpoint.expectAnswer();
    expect(await put(url, 'not json')).toBe(400);
    expect(await put(url, JSON.stringify({ ...answer, Status: 'FAILED' }))).toBe(400);
    expect(await put(url, JSON.stringify({ ...answer, Data: { x: 'y'.repeat(5000) } }))).toBe(400);
    expect(
      await put(
        `${url.split('/cloudformation-response/')[0]}/cloudformation-response/unknown`,
        JSON.stringify(answer),
      ),
    ).toBe(403);
  });
});
