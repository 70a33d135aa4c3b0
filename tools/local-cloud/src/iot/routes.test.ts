import { describe, expect, it } from 'vitest';
import { IOT_OPERATIONS, matchRoute } from './routes';

describe('Function: matchRoute', () => {
  it('captures percent-decoded path segments, slashes in an ARN included', () => {
    const arn = 'arn:aws:iot:us-east-1:000000000000:cert/abc';
    expect(matchRoute('POST', `/attached-policies/${encodeURIComponent(arn)}`)).toEqual({
      operation: 'ListAttachedPolicies',
      params: [arn],
    });
    expect(matchRoute('GET', '/things/t1/principals')).toEqual({
      operation: 'ListThingPrincipals',
      params: ['t1'],
    });
  });

  it('answers 405 naming the accepted methods for a known path', () => {
    expect(() => matchRoute('PATCH', '/things/t1')).toThrow(
      expect.objectContaining({
        code: 'MethodNotAllowedException',
        status: 405,
        message: expect.stringContaining('POST, GET, DELETE') as unknown,
      }),
    );
  });

  it('answers 404 UnknownOperationException for an unknown path, and 400 for bad encoding', () => {
    expect(() => matchRoute('GET', '/thing-groups')).toThrow(
      expect.objectContaining({ code: 'UnknownOperationException', status: 404 }),
    );
    expect(() => matchRoute('GET', '/things/%E0%A4%A')).toThrow(
      expect.objectContaining({ code: 'InvalidRequestException', status: 400 }),
    );
  });

  it('lists every operation once', () => {
    expect(new Set(IOT_OPERATIONS).size).toBe(IOT_OPERATIONS.length);
    expect(IOT_OPERATIONS).toContain('CreateKeysAndCertificate');
  });
});
