import { startResponseRecorder, type ResponseRecorder } from '@thingcert/test-support';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { customResourceHandler, type CustomResourceHandler } from './custom-resource-handler';
import { isMalformedEventError, isResponseDeliveryError } from './errors';
import type { LogFields, StructuredLogger } from './logger';
import { CREATE_FAILED_MARKER, MAX_RESPONSE_BYTES } from './response';

interface LogLine {
  level: string;
  message: string;
  fields: LogFields;
}

function capturingLogger(): StructuredLogger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const push =
    (level: string) =>
    (message: string, fields: LogFields = {}) => {
      lines.push({ level, message, fields });
    };
  return {
    lines,
    info: push('INFO'),
    warn: push('WARN'),
    error: push('ERROR'),
    text: () => lines.map((line) => JSON.stringify(line)).join('\n'),
  };
}

const fastRetry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

function event(recorder: ResponseRecorder, overrides: Record<string, unknown> = {}) {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    ResponseURL: recorder.responseUrl(),
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/demo/guid',
    RequestId: 'request-1',
    ResourceType: 'Custom::DeviceCertificate',
    LogicalResourceId: 'DeviceCertificate',
    ResourceProperties: { ServiceToken: 'arn', ThingName: 'thing-1' },
    ...overrides,
  };
}

let recorder: ResponseRecorder;
afterEach(async () => {
  await recorder.close();
});

describe('Function: customResourceHandler', () => {
  describe('successful requests', () => {
    it('PUTs a byte-exact body with an empty content-type and a byte-accurate content-length', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      const data = { Greeting: 'Grüße aus 東京 🚀', Count: 3 };
      const handler = customResourceHandler(
        async () => ({ physicalResourceId: 'cert-123', data }),
        {
          logger,
          retry: fastRetry,
        },
      );

      await handler(event(recorder));

      const [request] = recorder.accepted();
      expect(recorder.requests).toHaveLength(1);
      expect(request?.method).toBe('PUT');
      expect(request?.headers['content-type']).toBe('');
      expect(Number(request?.headers['content-length'])).toBe(request?.rawBody.length);
      expect(request?.rawBody.toString('utf8')).toBe(
        JSON.stringify({
          Status: 'SUCCESS',
          PhysicalResourceId: 'cert-123',
          StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/demo/guid',
          RequestId: 'request-1',
          LogicalResourceId: 'DeviceCertificate',
          Data: data,
        }),
      );
    });

    it('answers a duplicate delivery of the same Create with the same default physical id', async () => {
      recorder = await startResponseRecorder();
      const handler = customResourceHandler(async () => undefined, { logger: capturingLogger() });
      const first = event(recorder);

      await Promise.all([
        handler(first),
        handler({ ...first, ResponseURL: recorder.responseUrl() }),
      ]);

      const ids = recorder
        .accepted()
        .map((r) => (r.json as { PhysicalResourceId: string }).PhysicalResourceId);
      expect(ids).toHaveLength(2);
      expect(ids[0]).toBe(ids[1]);
      expect(ids[0]).toMatch(/^DeviceCertificate-[0-9a-f]{16}$/);
    });

    it('keeps the incoming id on Update unless the handler returns a new one (replacement)', async () => {
      recorder = await startResponseRecorder();
      const update = {
        RequestType: 'Update',
        PhysicalResourceId: 'old',
        OldResourceProperties: {},
      };
      const keep = customResourceHandler(async () => ({}), { logger: capturingLogger() });
      const replace = customResourceHandler(async () => ({ physicalResourceId: 'new' }), {
        logger: capturingLogger(),
      });

      await keep(event(recorder, update));
      await replace(event(recorder, update));

      const ids = recorder
        .accepted()
        .map((r) => (r.json as { PhysicalResourceId: string }).PhysicalResourceId);
      expect(ids).toEqual(['old', 'new']);
    });

    it('never lets a Delete change the physical id', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      const handler = customResourceHandler(async () => ({ physicalResourceId: 'other' }), {
        logger,
      });

      await handler(event(recorder, { RequestType: 'Delete', PhysicalResourceId: 'cert-9' }));

      expect(recorder.accepted()[0]?.json).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: 'cert-9',
      });
      expect(logger.lines.some((line) => line.level === 'WARN')).toBe(true);
    });

    it('sets NoEcho and keeps data and the ResponseURL out of every log line', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      const handler = customResourceHandler(
        async () => ({
          physicalResourceId: 'p',
          data: { Token: 'very-secret-value' },
          noEcho: true,
        }),
        { logger },
      );
      const input = event(recorder);

      await handler(input);

      expect(recorder.accepted()[0]?.json).toMatchObject({
        NoEcho: true,
        Data: { Token: 'very-secret-value' },
      });
      expect(logger.text()).not.toContain('very-secret-value');
      expect(logger.text()).not.toContain('Token');
      expect(logger.text()).not.toContain(input.ResponseURL);
      expect(logger.text()).not.toContain('X-Amz-Signature');
    });
  });
});

describe('Function: customResourceHandler', () => {
  describe('failures', () => {
    it('turns a thrown error on Create into FAILED with a one-line reason and the marker id', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      const handler = customResourceHandler(
        async () => {
          throw new TypeError('cannot read ThingName\n    at provision (index.js:1:1)');
        },
        { logger },
      );

      await handler(event(recorder));

      const body = recorder.accepted()[0]?.json as Record<string, string>;
      expect(body.Status).toBe('FAILED');
      expect(body.Reason).toBe('TypeError: cannot read ThingName');
      expect(body.PhysicalResourceId?.startsWith(CREATE_FAILED_MARKER)).toBe(true);
    });

    it('acknowledges the Delete that follows a failed Create without calling the handler', async () => {
      recorder = await startResponseRecorder();
      const inner = vi.fn<CustomResourceHandler>(async () => {
        throw new Error('create failed');
      });
      const handler = customResourceHandler(inner, { logger: capturingLogger() });

      await handler(event(recorder));
      const markerId = (recorder.accepted()[0]?.json as { PhysicalResourceId: string })
        .PhysicalResourceId;
      await handler(
        event(recorder, {
          RequestType: 'Delete',
          PhysicalResourceId: markerId,
          RequestId: 'request-2',
        }),
      );

      expect(inner).toHaveBeenCalledTimes(1);
      expect(recorder.accepted()[1]?.json).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: markerId,
      });
    });

    it('runs the failed-Create cleanup hook for that Delete and acknowledges even if it throws', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      const cleaned: string[] = [];
      const handler = customResourceHandler(
        async () => {
          throw new Error('create failed');
        },
        {
          logger,
          onFailedCreateDelete: async (event) => {
            cleaned.push(event.PhysicalResourceId);
            throw new Error('bucket gone');
          },
        },
      );

      await handler(event(recorder));
      const markerId = (recorder.accepted()[0]?.json as { PhysicalResourceId: string })
        .PhysicalResourceId;
      await handler(
        event(recorder, { RequestType: 'Delete', PhysicalResourceId: markerId, RequestId: 'r2' }),
      );

      expect(cleaned).toEqual([markerId]);
      expect(recorder.accepted()[1]?.json).toMatchObject({ Status: 'SUCCESS' });
      expect(
        logger.lines.some(
          (line) => line.level === 'WARN' && String(line.fields.reason).includes('bucket gone'),
        ),
      ).toBe(true);
    });

    it('answers the failed-Create Delete before the deadline even when its cleanup hangs', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      const handler = customResourceHandler(async () => ({}), {
        logger,
        timeoutMarginMs: 100,
        onFailedCreateDelete: () => new Promise<void>(() => undefined),
      });

      await handler(
        event(recorder, {
          RequestType: 'Delete',
          PhysicalResourceId: `${CREATE_FAILED_MARKER}:r1`,
        }),
        { getRemainingTimeInMillis: () => 150 },
      );

      expect(recorder.accepted()[0]?.json).toMatchObject({ Status: 'SUCCESS' });
      expect(
        logger.lines.some((line) => String(line.fields.reason).includes('cleanup did not finish')),
      ).toBe(true);
    });

    it('answers FAILED but keeps the created id when Data would exceed 4096 bytes', async () => {
      recorder = await startResponseRecorder();
      const handler = customResourceHandler(
        async () => ({ physicalResourceId: 'created-1', data: { Blob: 'x'.repeat(5000) } }),
        { logger: capturingLogger() },
      );

      await handler(event(recorder));

      const request = recorder.accepted()[0]!;
      expect(request.rawBody.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
      expect(request.json).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'created-1' });
      expect((request.json as { Reason: string }).Reason).toMatch(/at most 4096: return less data/);
      expect(request.json).not.toHaveProperty('Data');
    });

    it('answers FAILED when the handler returns an empty physical id', async () => {
      recorder = await startResponseRecorder();
      const handler = customResourceHandler(async () => ({ physicalResourceId: '' }), {
        logger: capturingLogger(),
      });

      await handler(
        event(recorder, {
          RequestType: 'Update',
          PhysicalResourceId: 'p',
          OldResourceProperties: {},
        }),
      );

      expect(recorder.accepted()[0]?.json).toMatchObject({
        Status: 'FAILED',
        PhysicalResourceId: 'p',
      });
    });
  });
});

describe('Function: customResourceHandler', () => {
  describe('deadline guard', () => {
    it('answers FAILED before the deadline and never sends the late result', async () => {
      recorder = await startResponseRecorder();
      const logger = capturingLogger();
      let finishLate!: () => void;
      const late = new Promise<void>((resolve) => (finishLate = resolve));
      const handler = customResourceHandler(
        async () => {
          await late;
          return { physicalResourceId: 'too-late' };
        },
        { logger, timeoutMarginMs: 100 },
      );

      await handler(
        event(recorder, {
          RequestType: 'Update',
          PhysicalResourceId: 'p',
          OldResourceProperties: {},
        }),
        {
          getRemainingTimeInMillis: () => 150,
        },
      );
      finishLate();
      await vi.waitFor(() => {
        expect(logger.lines.some((line) => line.message.includes('after the deadline'))).toBe(true);
      });

      expect(recorder.requests).toHaveLength(1);
      expect(recorder.accepted()[0]?.json).toMatchObject({
        Status: 'FAILED',
        PhysicalResourceId: 'p',
      });
      expect((recorder.accepted()[0]?.json as { Reason: string }).Reason).toMatch(
        /did not finish within/,
      );
    });
  });

  describe('response delivery', () => {
    it('retries after HTTP 500 answers and sends exactly one accepted response', async () => {
      recorder = await startResponseRecorder({ failFirst: 2 });
      const handler = customResourceHandler(async () => ({ physicalResourceId: 'p' }), {
        logger: capturingLogger(),
        retry: fastRetry,
      });

      await handler(event(recorder));

      expect(recorder.requests).toHaveLength(3);
      expect(recorder.accepted()).toHaveLength(1);
      expect(recorder.requests[0]?.rawBody.equals(recorder.requests[2]!.rawBody)).toBe(true);
    });

    it('retries after dropped connections', async () => {
      recorder = await startResponseRecorder({ dropFirst: 2 });
      const handler = customResourceHandler(async () => ({ physicalResourceId: 'p' }), {
        logger: capturingLogger(),
        retry: fastRetry,
      });

      await handler(event(recorder));

      expect(recorder.requests).toHaveLength(3);
      expect(recorder.accepted()[0]?.json).toMatchObject({ Status: 'SUCCESS' });
    });

    it('does not retry a 4xx and fails the invocation with a named error that hides the URL', async () => {
      recorder = await startResponseRecorder({ status: 403 });
      const logger = capturingLogger();
      const handler = customResourceHandler(async () => ({ physicalResourceId: 'p' }), {
        logger,
        retry: fastRetry,
      });
      const input = event(recorder);

      const error: unknown = await handler(input).catch((caught: unknown) => caught);

      expect(isResponseDeliveryError(error)).toBe(true);
      expect((error as Error).message).not.toContain('X-Amz-Signature');
      expect(recorder.requests).toHaveLength(1);
      expect(logger.text()).not.toContain(input.ResponseURL);
    });

    it('gives up after the configured attempts on persistent 5xx', async () => {
      recorder = await startResponseRecorder({ failFirst: 100 });
      const handler = customResourceHandler(async () => ({ physicalResourceId: 'p' }), {
        logger: capturingLogger(),
        retry: fastRetry,
      });

      await expect(handler(event(recorder))).rejects.toThrow(/after 4 attempts/);
      expect(recorder.requests).toHaveLength(4);
    });
  });

  describe('malformed events', () => {
    it.each([
      ['RequestType', { RequestType: undefined }, 'missing RequestType'],
      ['StackId', { StackId: undefined }, 'missing StackId'],
      ['RequestId', { RequestId: undefined }, 'missing RequestId'],
      ['LogicalResourceId', { LogicalResourceId: undefined }, 'missing LogicalResourceId'],
      ['ResourceType', { ResourceType: undefined }, 'missing ResourceType'],
      ['RequestType value', { RequestType: 'Destroy' }, 'unknown RequestType'],
      ['Delete PhysicalResourceId', { RequestType: 'Delete' }, 'missing PhysicalResourceId'],
      [
        'Update OldResourceProperties',
        { RequestType: 'Update', PhysicalResourceId: 'p' },
        'missing OldResourceProperties',
      ],
    ])('answers FAILED for a missing or bad %s', async (_field, overrides, reason) => {
      recorder = await startResponseRecorder();
      const inner = vi.fn<CustomResourceHandler>(async () => ({}));
      const handler = customResourceHandler(inner, { logger: capturingLogger() });

      await handler(event(recorder, overrides));

      expect(inner).not.toHaveBeenCalled();
      expect(recorder.accepted()).toHaveLength(1);
      const body = recorder.accepted()[0]?.json as Record<string, string>;
      expect(body.Status).toBe('FAILED');
      expect(body.Reason).toContain(reason);
      expect(body.PhysicalResourceId?.length).toBeGreaterThan(0);
    });

    it('throws a named error when there is no ResponseURL to answer to', async () => {
      recorder = await startResponseRecorder();
      const handler = customResourceHandler(async () => ({}), { logger: capturingLogger() });

      const error: unknown = await handler({ ...event(recorder), ResponseURL: undefined }).catch(
        (caught: unknown) => caught,
      );

      expect(isMalformedEventError(error)).toBe(true);
      expect(recorder.requests).toHaveLength(0);
    });
  });
});
