import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startResponseRecorder, type ResponseRecorder } from './response-recorder';

function put(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('startResponseRecorder', () => {
  let recorder: ResponseRecorder;
  afterEach(() => recorder.close());

  it('fails the first N requests, then records the body byte for byte', async () => {
    recorder = await startResponseRecorder({ failFirst: 1 });
    expect(await put(recorder.responseUrl(), '{"a":1}')).toBe(500);
    expect(await put(recorder.responseUrl(), '{"a":"é"}')).toBe(200);
    const [accepted] = await recorder.waitForAccepted(1);
    expect(accepted?.rawBody.toString('utf8')).toBe('{"a":"é"}');
    expect(recorder.requests).toHaveLength(2);
  });
});
