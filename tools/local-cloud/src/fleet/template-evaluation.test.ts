import { describe, expect, it } from 'vitest';
import { parseTemplateBody } from './template-body';
import { evaluateTemplate, type ProvisioningPlan } from './template-evaluation';

const CERT = 'ab'.repeat(32);
const strict = { conditions: false };
const withConditions = { conditions: true };

/** Parses `template` and evaluates it with `parameters` for certificate CERT. */
function evaluate(
  template: object,
  parameters: Record<string, string> = {},
  features = strict,
): ProvisioningPlan {
  return evaluateTemplate(parseTemplateBody(JSON.stringify(template), features), {
    parameters,
    certificateId: CERT,
  });
}

/** A template whose DeviceConfiguration `value` is `expression`. */
function configured(expression: unknown, extra: object = {}): object {
  return {
    Parameters: {
      Name: { Type: 'String' },
      Csv: { Type: 'String', Default: 'a,b,c' },
    },
    DeviceConfiguration: { value: expression },
    ...extra,
  };
}

const fleetTemplate = {
  Parameters: {
    SerialNumber: { Type: 'String' },
    Location: { Type: 'String', Default: 'WA' },
  },
  Mappings: { LocationTable: { Seattle: { LocationUrl: 'https://example.aws' } } },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        ThingName: { 'Fn::Join': ['', ['sensor-', { Ref: 'SerialNumber' }]] },
        AttributePayload: { version: 'v1', location: { Ref: 'Location' } },
        ThingGroups: ['fleet', { Ref: 'Location' }],
      },
      OverrideSettings: { AttributePayload: 'MERGE', ThingGroups: 'DO_NOTHING' },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'Active' },
    },
    policy: {
      Type: 'AWS::IoT::Policy',
      Properties: {
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'iot:Publish',
              Resource: { 'Fn::Sub': 'arn:aws:iot:*:*:topic/dt/${SerialNumber}' },
            },
          ],
        },
      },
    },
  },
  DeviceConfiguration: { FallbackUrl: 'https://www.example.com/test-site' },
};

describe('Function: evaluateTemplate', () => {
  it("evaluates the developer guide's fleet template: thing, certificate, policy, configuration", () => {
    const plan = evaluate(fleetTemplate, { SerialNumber: '42' });
    expect(plan.thing).toEqual({
      thingName: 'sensor-42',
      attributes: { version: 'v1', location: 'WA' },
      thingGroups: ['fleet', 'WA'],
      overrides: {
        AttributePayload: 'MERGE',
        ThingTypeName: 'DO_NOTHING',
        ThingGroups: 'DO_NOTHING',
      },
    });
    // "Active", as the guide writes it, is read case-insensitively.
    expect(plan.certificate).toEqual({ certificateId: CERT, status: 'ACTIVE' });
    expect(plan.deviceConfiguration).toEqual({ FallbackUrl: 'https://www.example.com/test-site' });
    const [policy] = plan.policies;
    expect(JSON.parse(policy?.policyDocument ?? '{}')).toMatchObject({
      Statement: [{ Resource: 'arn:aws:iot:*:*:topic/dt/42' }],
    });
    // "PolicyName: ... Defaults to a hash of the policy document."
    expect(policy?.policyName).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses a parameter default only when the device gives no value, and refuses a missing one', () => {
    expect(
      evaluate(fleetTemplate, { SerialNumber: '1', Location: 'OR' }).thing?.attributes,
    ).toEqual({
      version: 'v1',
      location: 'OR',
    });
    expect(() => evaluate(fleetTemplate, {})).toThrow('Parameter SerialNumber has no value');
  });

  it('sets AWS::IoT::Certificate::Id itself: a device cannot choose the certificate', () => {
    const plan = evaluate(fleetTemplate, {
      SerialNumber: '1',
      'AWS::IoT::Certificate::Id': 'cd'.repeat(32),
    });
    expect(plan.certificate?.certificateId).toBe(CERT);
  });

  it('resolves Fn::Join, Fn::Split, Fn::Select and Fn::FindInMap', () => {
    const mappings = { Mappings: { Region: { a: { Url: 'https://a.example' } } } };
    expect(
      evaluate(configured({ 'Fn::Join': ['-', ['x', { Ref: 'Name' }]] }), { Name: 'n' })
        .deviceConfiguration,
    ).toEqual({ value: 'x-n' });
    const second = { 'Fn::Select': ['1', { 'Fn::Split': [',', { Ref: 'Csv' }] }] };
    expect(evaluate(configured(second), { Name: 'n' }).deviceConfiguration.value).toBe('b');
    const byNumber = { 'Fn::Select': [2, ['p', 'q', 'r']] };
    expect(evaluate(configured(byNumber), { Name: 'n' }).deviceConfiguration.value).toBe('r');
    const found = { 'Fn::FindInMap': ['Region', { Ref: 'Name' }, 'Url'] };
    expect(evaluate(configured(found, mappings), { Name: 'a' }).deviceConfiguration.value).toBe(
      'https://a.example',
    );
  });

  it('resolves Fn::Sub with parameters, its own variables and ${!Literal}', () => {
    const sub = { 'Fn::Sub': ['${Name}/${Suffix}/${!Literal}', { Suffix: { Ref: 'Csv' } }] };
    expect(evaluate(configured(sub), { Name: 'n' }).deviceConfiguration.value).toBe(
      'n/a,b,c/${Literal}',
    );
    expect(() => evaluate(configured({ 'Fn::Sub': '${Nope}' }), { Name: 'n' })).toThrow(
      '${Nope} names no variable or parameter',
    );
  });

  it('fails the provisioning for an out-of-bounds Fn::Select or a missing mapping key', () => {
    const outOfBounds = { 'Fn::Select': [3, ['a', 'b']] };
    expect(() => evaluate(configured(outOfBounds), { Name: 'n' })).toThrow('out of bounds');
    const missing = { 'Fn::FindInMap': ['Nope', 'a', 'b'] };
    expect(() => evaluate(configured(missing), { Name: 'n' })).toThrow('no value at Nope.a.b');
  });
});

describe('Function: parseTemplateBody', () => {
  it('refuses what AWS does not support: functions, resource types, sections, nested configuration', () => {
    const refuse = (template: object, message: string) =>
      expect(() => parseTemplateBody(JSON.stringify(template), strict)).toThrow(message);
    refuse(
      configured({ 'Fn::GetAtt': ['thing', 'Arn'] }),
      'unsupported intrinsic function Fn::GetAtt',
    );
    refuse(configured({ 'Fn::Base64': 'x' }), 'unsupported intrinsic function Fn::Base64');
    refuse(configured({ 'Fn::If': ['c', 'a', 'b'] }), 'unsupported intrinsic function Fn::If');
    refuse({ Resources: { q: { Type: 'AWS::SQS::Queue' } } }, 'unsupported Type AWS::SQS::Queue');
    refuse({ Outputs: {} }, 'Unsupported template section Outputs');
    refuse({ Conditions: {} }, 'Unsupported template section Conditions');
    refuse({ DeviceConfiguration: { nested: { a: 'b' } } }, 'does not support nested JSON objects');
    refuse(configured({ Ref: 'Undeclared' }), 'Ref "Undeclared" names no parameter');
    refuse({ Parameters: { N: { Type: 'Number' } } }, 'Type must be String');
    refuse({ Mappings: { M: { k: { v: { Ref: 'X' } } } } }, 'Ref is not allowed here');
  });

  it('refuses resources AWS refuses in fleet templates', () => {
    const resource = (type: string, properties: object, extra: object = {}) =>
      JSON.stringify({ Resources: { r: { Type: type, Properties: properties, ...extra } } });
    expect(() =>
      parseTemplateBody(
        resource('AWS::IoT::Certificate', { CertificateSigningRequest: 'x', CertificateId: 'y' }),
        strict,
      ),
    ).toThrow('only CertificateId can be used');
    expect(() =>
      parseTemplateBody(
        resource('AWS::IoT::Policy', { PolicyName: 'a', PolicyDocument: '{}' }),
        strict,
      ),
    ).toThrow('PolicyName or PolicyDocument, but not both');
    expect(() =>
      parseTemplateBody(resource('AWS::IoT::Thing', { ThingName: 't', BillingGroup: 'b' }), strict),
    ).toThrow('billing groups are not emulated');
    expect(() =>
      parseTemplateBody(
        resource(
          'AWS::IoT::Policy',
          { PolicyName: 'p' },
          { OverrideSettings: { Status: 'REPLACE' } },
        ),
        strict,
      ),
    ).toThrow('not available for policy resources');
    expect(() =>
      parseTemplateBody(
        resource(
          'AWS::IoT::Thing',
          { ThingName: 't' },
          { OverrideSettings: { ThingTypeName: 'MERGE' } },
        ),
        strict,
      ),
    ).toThrow('ThingTypeName must be one of DO_NOTHING, REPLACE, FAIL');
  });

  it('reads OverrideSettings spelled as in the guide prose (THING_GROUPS) or its examples (ThingGroups)', () => {
    const template = (key: string) =>
      JSON.stringify({
        Resources: {
          t: {
            Type: 'AWS::IoT::Thing',
            Properties: { ThingName: 't' },
            OverrideSettings: { [key]: 'REPLACE' },
          },
        },
      });
    expect(
      parseTemplateBody(template('THING_GROUPS'), strict).resources['t']?.overrideSettings,
    ).toEqual({ ThingGroups: 'REPLACE' });
    expect(
      parseTemplateBody(template('ThingGroups'), strict).resources['t']?.overrideSettings,
    ).toEqual({ ThingGroups: 'REPLACE' });
  });
});

describe('Conditions (provisioningTemplateConditions: true)', () => {
  const conditional = {
    Parameters: {
      Env: { Type: 'String', Default: 'dev' },
      Region: { Type: 'String', Default: 'eu' },
    },
    Conditions: {
      IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      ProdInEu: {
        'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': [{ Ref: 'Region' }, 'eu'] }],
      },
      ProdOrEu: {
        'Fn::Or': [{ Condition: 'IsProd' }, { 'Fn::Equals': [{ Ref: 'Region' }, 'eu'] }],
      },
    },
    Resources: {
      prodPolicy: {
        Type: 'AWS::IoT::Policy',
        Condition: 'IsProd',
        Properties: { PolicyName: 'prod' },
      },
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: { 'Fn::If': ['IsProd', 'prod-thing', 'dev-thing'] },
          ThingTypeName: { 'Fn::If': ['IsDev', { Ref: 'AWS::NoValue' }, 'prod-type'] },
        },
      },
    },
    DeviceConfiguration: {
      dev: { 'Fn::If': ['IsDev', 'yes', 'no'] },
      prodInEu: { 'Fn::If': ['ProdInEu', 'yes', 'no'] },
      prodOrEu: { 'Fn::If': ['ProdOrEu', 'yes', 'no'] },
    },
  };

  it('evaluates Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::If, Condition on resources and AWS::NoValue', () => {
    const dev = evaluate(conditional, {}, withConditions);
    expect(dev.policies).toEqual([]);
    expect(dev.thing?.thingName).toBe('dev-thing');
    expect(dev.thing).not.toHaveProperty('thingTypeName');
    expect(dev.deviceConfiguration).toEqual({ dev: 'yes', prodInEu: 'no', prodOrEu: 'yes' });
    const prod = evaluate(conditional, { Env: 'prod', Region: 'us' }, withConditions);
    expect(prod.policies).toEqual([{ policyName: 'prod' }]);
    expect(prod.thing).toMatchObject({ thingName: 'prod-thing', thingTypeName: 'prod-type' });
    expect(prod.deviceConfiguration).toEqual({ dev: 'no', prodInEu: 'no', prodOrEu: 'yes' });
  });

  it('refuses a resource with an undeclared condition and a condition that refers to itself', () => {
    const undeclared = {
      Resources: {
        p: { Type: 'AWS::IoT::Policy', Condition: 'Nope', Properties: { PolicyName: 'p' } },
      },
    };
    expect(() => parseTemplateBody(JSON.stringify(undeclared), withConditions)).toThrow(
      'Condition Nope is not declared',
    );
    const cyclic = configured(
      { 'Fn::If': ['Loop', 'a', 'b'] },
      { Conditions: { Loop: { 'Fn::Not': [{ Condition: 'Loop' }] } } },
    );
    expect(() => evaluate(cyclic, { Name: 'n' }, withConditions)).toThrow(
      'condition Loop refers to itself',
    );
  });
});
