import { describe, expect, it } from 'vitest';
import { referencedResources, resolveValue, type ResolveContext } from './intrinsics';

const ctx: ResolveContext = {
  pseudo: { 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '000000000000', 'AWS::Partition': 'aws' },
  parameters: { Topic: 'test/topic', Names: ['a', 'b'] },
  conditions: { IsProd: false },
  ref: (id) => ({ Bucket: 'my-bucket', Thing: 'thing-1' })[id],
  getAtt: (id, attribute) =>
    id === 'Cert' && attribute === 'CertificateArn'
      ? 'arn:aws:iot:eu-west-1:000000000000:cert/abc'
      : undefined,
};

describe('Function: resolveValue', () => {
  it.each([
    ['Ref to a resource', { Ref: 'Bucket' }, 'my-bucket'],
    ['Ref to a parameter', { Ref: 'Topic' }, 'test/topic'],
    ['Ref to a pseudo parameter', { Ref: 'AWS::Region' }, 'eu-west-1'],
    [
      'Fn::GetAtt list form',
      { 'Fn::GetAtt': ['Cert', 'CertificateArn'] },
      'arn:aws:iot:eu-west-1:000000000000:cert/abc',
    ],
    [
      'Fn::GetAtt string form',
      { 'Fn::GetAtt': 'Cert.CertificateArn' },
      'arn:aws:iot:eu-west-1:000000000000:cert/abc',
    ],
    [
      'Fn::Sub with refs, attributes and a literal',
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:client/${!iot:ClientId}/${Thing}/${Cert.CertificateArn}',
      },
      'arn:aws:iot:eu-west-1:000000000000:client/${iot:ClientId}/thing-1/arn:aws:iot:eu-west-1:000000000000:cert/abc',
    ],
    [
      'Fn::Sub with variables',
      { 'Fn::Sub': ['${A}-${Thing}', { A: { Ref: 'Bucket' } }] },
      'my-bucket-thing-1',
    ],
    ['Fn::Join', { 'Fn::Join': ['/', ['x', { Ref: 'Thing' }]] }, 'x/thing-1'],
    ['Fn::Select', { 'Fn::Select': [1, { Ref: 'Names' }] }, 'b'],
    ['Fn::Select over Fn::Split', { 'Fn::Select': [2, { 'Fn::Split': [':', 'a:b:c'] }] }, 'c'],
    ['Fn::If', { 'Fn::If': ['IsProd', 'big', 'small'] }, 'small'],
    ['Fn::Equals', { 'Fn::Equals': [{ Ref: 'Topic' }, 'test/topic'] }, true],
    ['Fn::Not over Fn::And', { 'Fn::Not': [{ 'Fn::And': [true, { Condition: 'IsProd' }] }] }, true],
  ])('resolves %s', (_name, input, expected) => {
    expect(resolveValue(input, ctx)).toEqual(expected);
  });

  it('drops properties set to AWS::NoValue', () => {
    expect(
      resolveValue({ A: { Ref: 'AWS::NoValue' }, B: 1, L: [{ Ref: 'AWS::NoValue' }, 2] }, ctx),
    ).toEqual({ B: 1, L: [2] });
  });

  it.each([
    ['an undeployed resource', { Ref: 'Nope' }, 'Ref to Nope, which is not deployed'],
    [
      'a missing attribute',
      { 'Fn::GetAtt': ['Cert', 'Nope'] },
      'Fn::GetAtt Cert.Nope has no value',
    ],
    ['an out-of-range select', { 'Fn::Select': [5, ['a']] }, 'out of range'],
    ['an unknown condition', { 'Fn::If': ['Missing', 1, 2] }, 'unknown condition Missing'],
    ['an import', { 'Fn::ImportValue': 'x' }, 'cross-stack imports are not emulated'],
  ])('names what it cannot resolve: %s', (_name, input, message) => {
    expect(() => resolveValue(input, ctx)).toThrow(message);
  });
});

describe('Function: referencedResources', () => {
  it('finds Ref, GetAtt and Sub targets among resources only', () => {
    const ids = new Set(['Bucket', 'Cert', 'Thing']);
    const value = {
      a: { Ref: 'Bucket' },
      b: { 'Fn::GetAtt': ['Cert', 'CertificateArn'] },
      c: { 'Fn::Sub': '${Thing}/${AWS::Region}/${!Literal}/${Topic}' },
    };
    expect([...referencedResources(value, ids)].sort()).toEqual(['Bucket', 'Cert', 'Thing']);
  });
});
