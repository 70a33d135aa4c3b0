import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecordedRequests, RECORDER_CODE } from './recording-custom-resource';
import { startResponseRecorder, type ResponseRecorder } from './response-recorder';

type Handler = (event: Record<string, unknown>) => Promise<void>;

describe('RECORDER_CODE', () => {
  let dir: string;
  let recorder: ResponseRecorder;
  let handler: Handler;
  const recordFile = () => join(dir, 'requests.jsonl');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'thingcert-recorder-'));
    // Lambda writes inline code to index.js; .cjs pins CommonJS for this import.
    writeFileSync(join(dir, 'index.cjs'), RECORDER_CODE);
    process.env.RECORD_FILE = recordFile();
    handler = ((await import(pathToFileURL(join(dir, 'index.cjs')).href)) as { handler: Handler })
      .handler;
    recorder = await startResponseRecorder();
  });
  afterAll(async () => {
    delete process.env.RECORD_FILE;
    await recorder.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (fields: Record<string, unknown>) => ({
    StackId: 'stack',
    RequestId: `request-${recorder.requests.length}`,
    LogicalResourceId: 'Recorder',
    ResponseURL: recorder.responseUrl(),
    ...fields,
  });

  it('records each request and answers as its properties say', async () => {
    await handler(
      event({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'fn', PhysicalId: 'a' } }),
    );
    await handler(
      event({
        RequestType: 'Update',
        PhysicalResourceId: 'a',
        ResourceProperties: { ServiceToken: 'fn', PhysicalId: 'b', FailOn: 'Update' },
        OldResourceProperties: { ServiceToken: 'fn', PhysicalId: 'a' },
      }),
    );
    await handler(
      event({
        RequestType: 'Delete',
        PhysicalResourceId: 'a',
        ResourceProperties: { ServiceToken: 'fn', PhysicalId: 'b' },
      }),
    );

    const answers = recorder.accepted().map((request) => request.json);
    expect(answers).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'a', Data: { Id: 'a' } }),
      expect.objectContaining({
        Status: 'FAILED',
        PhysicalResourceId: 'a',
        Reason: 'FailOn Update',
      }),
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'a' }),
    ]);
    expect(readRecordedRequests(recordFile())).toEqual([
      expect.objectContaining({ RequestType: 'Create', ResourceProperties: { PhysicalId: 'a' } }),
      expect.objectContaining({
        RequestType: 'Update',
        PhysicalResourceId: 'a',
        ResourceProperties: { PhysicalId: 'b', FailOn: 'Update' },
        OldResourceProperties: { PhysicalId: 'a' },
      }),
      expect.objectContaining({ RequestType: 'Delete', PhysicalResourceId: 'a' }),
    ]);
  });

  it('reads nothing from a file that does not exist', () => {
    expect(readRecordedRequests(join(dir, 'missing.jsonl'))).toEqual([]);
  });
});
