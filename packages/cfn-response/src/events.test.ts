import { describe, expect, it } from 'vitest';
import { parseCustomResourceEvent, responseAddressOf } from './events';
import { isMalformedEventError } from './errors';

const valid = {
  RequestType: 'Update',
  ResponseURL: 'https://bucket.s3.amazonaws.com/response?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
  RequestId: 'req-1',
  ResourceType: 'Custom::DeviceCertificate',
  LogicalResourceId: 'Cert',
  PhysicalResourceId: 'abc',
  ResourceProperties: { ServiceToken: 'arn', ThingName: 't' },
  OldResourceProperties: { ServiceToken: 'arn', ThingName: 'u' },
};

describe('Function: parseCustomResourceEvent', () => {
  it('returns a typed Update event', () => {
    const event = parseCustomResourceEvent(valid);
    expect(event.RequestType).toBe('Update');
    if (event.RequestType === 'Update') expect(event.OldResourceProperties.ThingName).toBe('u');
  });

  it('defaults missing ResourceProperties to an empty object', () => {
    const { ResourceProperties: _omit, ...rest } = valid;
    expect(parseCustomResourceEvent({ ...rest, RequestType: 'Delete' }).ResourceProperties).toEqual(
      {},
    );
  });

  it.each([
    ['not an object', 'x', 'expected a JSON object'],
    ['missing RequestType', { ...valid, RequestType: undefined }, 'missing RequestType'],
    ['unknown RequestType', { ...valid, RequestType: 'Upsert' }, 'unknown RequestType "Upsert"'],
    ['missing ResponseURL', { ...valid, ResponseURL: undefined }, 'missing ResponseURL'],
    ['non-http ResponseURL', { ...valid, ResponseURL: 'ftp://x/y' }, 'not an http(s) URL'],
    ['missing StackId', { ...valid, StackId: '' }, 'missing StackId'],
    ['missing RequestId', { ...valid, RequestId: undefined }, 'missing RequestId'],
    ['missing ResourceType', { ...valid, ResourceType: undefined }, 'missing ResourceType'],
    ['missing LogicalResourceId', { ...valid, LogicalResourceId: 7 }, 'missing LogicalResourceId'],
    [
      'array properties',
      { ...valid, ResourceProperties: [] },
      'ResourceProperties is not an object',
    ],
    [
      'Update without PhysicalResourceId',
      { ...valid, PhysicalResourceId: undefined },
      'missing PhysicalResourceId on a Update',
    ],
    [
      'Delete without PhysicalResourceId',
      { ...valid, RequestType: 'Delete', PhysicalResourceId: '' },
      'missing PhysicalResourceId on a Delete',
    ],
    [
      'Update without OldResourceProperties',
      { ...valid, OldResourceProperties: undefined },
      'missing OldResourceProperties',
    ],
  ])('rejects %s with a one-line named error', (_name, raw, expected) => {
    let caught: unknown;
    try {
      parseCustomResourceEvent(raw);
    } catch (error) {
      caught = error;
    }
    expect(isMalformedEventError(caught)).toBe(true);
    expect((caught as Error).message).toContain(expected);
    expect((caught as Error).message).not.toContain('\n');
  });
});

describe('Function: responseAddressOf', () => {
  it('keeps what can address a response, even from a broken event', () => {
    expect(
      responseAddressOf({ ResponseURL: valid.ResponseURL, RequestId: 'r', StackId: 5 }),
    ).toEqual({
      ResponseURL: valid.ResponseURL,
      StackId: '',
      RequestId: 'r',
      LogicalResourceId: '',
    });
  });

  it('returns undefined without a usable ResponseURL', () => {
    expect(responseAddressOf({ ...valid, ResponseURL: 'not a url' })).toBeUndefined();
    expect(responseAddressOf(null)).toBeUndefined();
  });
});
