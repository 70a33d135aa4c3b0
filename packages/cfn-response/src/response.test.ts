import { describe, expect, it } from 'vitest';
import {
  createFailedMarker,
  defaultPhysicalResourceId,
  fitReason,
  isCreateFailedMarker,
  MAX_RESPONSE_BYTES,
  reasonFromError,
  requestIdOfCreateFailedMarker,
  responseBytes,
} from './response';

const base = { PhysicalResourceId: 'id', StackId: 's', RequestId: 'r', LogicalResourceId: 'L' };

describe('Function: reasonFromError', () => {
  it('gives name and first message line, never the stack', () => {
    class StepError extends Error {
      constructor(message: string) {
        super(message);
        this.name = 'StepError';
      }
    }
    const reason = reasonFromError(new StepError('create failed\nat line 2'));
    expect(reason).toBe('StepError: create failed');
  });

  it('redacts PEM blocks so key material cannot reach CloudFormation', () => {
    const reason = reasonFromError(
      new Error(
        'bad key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY----- trailing',
      ),
    );
    expect(reason).toBe('bad key [redacted PEM] trailing');
  });

  it('describes non-errors', () => {
    expect(reasonFromError(42)).toBe('Non-error thrown: number');
    expect(reasonFromError('plain')).toBe('plain');
  });
});

describe('Function: fitReason', () => {
  it('cuts an oversize reason on a character boundary so the body fits exactly', () => {
    const huge = { ...base, Status: 'FAILED' as const, Reason: 'é€'.repeat(3000) };
    const fitted = fitReason(huge);
    expect(responseBytes(fitted)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(responseBytes(fitted)).toBeGreaterThan(MAX_RESPONSE_BYTES - 8);
    expect(fitted.Reason?.endsWith('…')).toBe(true);
    expect(fitted.Reason).not.toContain('\uFFFD');
  });

  it('leaves a small body alone', () => {
    const small = { ...base, Status: 'FAILED' as const, Reason: 'short' };
    expect(fitReason(small)).toBe(small);
  });
});

describe('Physical ids', () => {
  it('derives the same default id for the same request, another for another', () => {
    const event = { StackId: 'stack', LogicalResourceId: 'Cert', RequestId: 'r1' };
    expect(defaultPhysicalResourceId(event)).toBe(defaultPhysicalResourceId({ ...event }));
    expect(defaultPhysicalResourceId(event)).not.toBe(
      defaultPhysicalResourceId({ ...event, RequestId: 'r2' }),
    );
    expect(defaultPhysicalResourceId(event)).toMatch(/^Cert-[0-9a-f]{16}$/);
  });

  it('recovers the failed Create request id from its marker', () => {
    expect(requestIdOfCreateFailedMarker(createFailedMarker('req-7'))).toBe('req-7');
    expect(requestIdOfCreateFailedMarker('cert-123')).toBeUndefined();
  });

  it('recognises its own failed-Create marker only', () => {
    expect(isCreateFailedMarker(createFailedMarker('r1'))).toBe(true);
    expect(isCreateFailedMarker('0123abcd')).toBe(false);
    expect(isCreateFailedMarker(undefined)).toBe(false);
  });
});
