import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import type { Template } from './cloud-assembly';
import { deployOrder } from './dependency-order';

describe('Function: deployOrder', () => {
  it('puts every resource after what it references or depends on', () => {
    const template: Template = {
      Resources: {
        Attachment: {
          Type: 'AWS::IoT::ThingPrincipalAttachment',
          Properties: {
            Principal: { 'Fn::GetAtt': ['Cert', 'CertificateArn'] },
            ThingName: { Ref: 'Thing' },
          },
        },
        Cert: {
          Type: DEVICE_CERTIFICATE_RESOURCE_TYPE,
          Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
        },
        Thing: { Type: 'AWS::IoT::Thing' },
        Fn: { Type: 'AWS::Lambda::Function', DependsOn: ['Role'] },
        Role: { Type: 'AWS::IAM::Role' },
      },
    };
    const order = deployOrder(template);
    const before = (a: string, b: string) => order.indexOf(a) < order.indexOf(b);
    expect(order).toHaveLength(5);
    expect(before('Role', 'Fn')).toBe(true);
    expect(before('Fn', 'Cert')).toBe(true);
    expect(before('Cert', 'Attachment')).toBe(true);
    expect(before('Thing', 'Attachment')).toBe(true);
  });

  it('names the resources of a cycle', () => {
    const template: Template = {
      Resources: {
        A: { Type: 'X', DependsOn: 'B' },
        B: { Type: 'X', Properties: { p: { Ref: 'A' } } },
      },
    };
    expect(() => deployOrder(template)).toThrow(/dependency cycle: A → B → A/);
  });

  it('rejects DependsOn to an unknown resource', () => {
    expect(() => deployOrder({ Resources: { A: { Type: 'X', DependsOn: 'Ghost' } } })).toThrow(
      'unknown resource Ghost',
    );
  });
});
