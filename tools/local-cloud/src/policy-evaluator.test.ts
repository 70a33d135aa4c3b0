import { describe, expect, it } from 'vitest';
import {
  evaluatePolicies,
  globMatch,
  iotResourceArn,
  validatePolicyDocument,
  type AuthorizationRequest,
} from './policy-evaluator';

const where = { region: 'us-east-1', accountId: '000000000000' };
const topic = (name: string) => iotResourceArn('topic', name, where);
const filter = (name: string) => iotResourceArn('topicfilter', name, where);
const client = (name: string) => iotResourceArn('client', name, where);

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
const allow = (Action: string | string[], Resource: string | string[], Condition?: object) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition === undefined ? {} : { Condition }),
});
const deny = (Action: string | string[], Resource: string | string[]) => ({
  Effect: 'Deny',
  Action,
  Resource,
});

describe('Function: iotResourceArn', () => {
  it('builds client, topic and topicfilter ARNs', () => {
    expect(client('dev-1')).toBe('arn:aws:iot:us-east-1:000000000000:client/dev-1');
    expect(topic('a/b')).toBe('arn:aws:iot:us-east-1:000000000000:topic/a/b');
    expect(filter('a/+/#')).toBe('arn:aws:iot:us-east-1:000000000000:topicfilter/a/+/#');
  });
});

describe('Function: globMatch', () => {
  it.each([
    ['*', '', true],
    ['a*', 'a/b/c', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*c', 'ab/xc', true],
    ['a*c', 'ab/xd', false],
    ['*/b/*', 'a/b/c', true],
    ['a/+', 'a/x', false],
    ['a/+', 'a/+', true],
    ['a/#', 'a/b', false],
    ['abc', 'abcd', false],
  ])('%s against %s → %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });
});

describe('Function: evaluatePolicies', () => {
  // Over 150 lines because it holds the table of evaluation cases; the code is two it.each.
  const base: Omit<AuthorizationRequest, 'action' | 'resource'> = { clientId: 'dev-1' };
  const cases: Array<{
    name: string;
    policies: Array<string | object>;
    request: AuthorizationRequest;
    decision: 'allow' | 'explicit-deny' | 'implicit-deny';
  }> = [
    {
      name: 'no policy is an implicit deny',
      policies: [],
      request: { ...base, action: 'iot:Publish', resource: topic('a') },
      decision: 'implicit-deny',
    },
    {
      name: 'exact allow',
      policies: [policy(allow('iot:Publish', topic('a/b')))],
      request: { ...base, action: 'iot:Publish', resource: topic('a/b') },
      decision: 'allow',
    },
    {
      name: 'allow for another action does not apply',
      policies: [policy(allow('iot:Subscribe', topic('a/b')))],
      request: { ...base, action: 'iot:Publish', resource: topic('a/b') },
      decision: 'implicit-deny',
    },
    {
      name: 'iot:* matches every action, case-insensitively',
      policies: [policy(allow('IOT:*', '*'))],
      request: { ...base, action: 'iot:Receive', resource: topic('x') },
      decision: 'allow',
    },
    {
      name: 'action list',
      policies: [policy(allow(['iot:Connect', 'iot:Publish'], '*'))],
      request: { ...base, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'allow',
    },
    {
      name: 'explicit deny beats allow, across documents',
      policies: [
        policy(allow('iot:*', '*')),
        { Version: '2012-10-17', Statement: [deny('iot:Publish', topic('secret/*'))] },
      ],
      request: { ...base, action: 'iot:Publish', resource: topic('secret/x') },
      decision: 'explicit-deny',
    },
    {
      name: 'deny for another topic leaves the allow',
      policies: [policy(allow('iot:*', '*'), deny('iot:Publish', topic('secret/*')))],
      request: { ...base, action: 'iot:Publish', resource: topic('public/x') },
      decision: 'allow',
    },
    {
      name: '* crosses topic levels',
      policies: [policy(allow('iot:Publish', topic('dt/*')))],
      request: { ...base, action: 'iot:Publish', resource: topic('dt/a/b/c') },
      decision: 'allow',
    },
    {
      name: '? matches exactly one character',
      policies: [policy(allow('iot:Publish', topic('dt/?')))],
      request: { ...base, action: 'iot:Publish', resource: topic('dt/ab') },
      decision: 'implicit-deny',
    },
    {
      name: 'MQTT + in a policy is literal, not a wildcard',
      policies: [policy(allow('iot:Subscribe', filter('dt/+/temp')))],
      request: { ...base, action: 'iot:Subscribe', resource: filter('dt/dev-1/temp') },
      decision: 'implicit-deny',
    },
    {
      name: 'MQTT + matches itself in a subscription filter',
      policies: [policy(allow('iot:Subscribe', filter('dt/+/temp')))],
      request: { ...base, action: 'iot:Subscribe', resource: filter('dt/+/temp') },
      decision: 'allow',
    },
    {
      name: 'MQTT # in a policy is literal',
      policies: [policy(allow('iot:Publish', topic('dt/#')))],
      request: { ...base, action: 'iot:Publish', resource: topic('dt/x') },
      decision: 'implicit-deny',
    },
    {
      name: '${iot:ClientId} substitutes the client id',
      policies: [
        policy(allow('iot:Connect', 'arn:aws:iot:us-east-1:000000000000:client/${iot:ClientId}')),
      ],
      request: { ...base, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'allow',
    },
    {
      name: '${iot:Connection.Thing.ThingName} substitutes the thing name',
      policies: [
        policy(
          allow('iot:Publish', 'arn:aws:iot:*:*:topic/dt/${iot:Connection.Thing.ThingName}/*'),
        ),
      ],
      request: {
        ...base,
        thingName: 'dev-1',
        action: 'iot:Publish',
        resource: topic('dt/dev-1/temp'),
      },
      decision: 'allow',
    },
    {
      name: 'thing variable does not match another thing',
      policies: [
        policy(
          allow('iot:Publish', 'arn:aws:iot:*:*:topic/dt/${iot:Connection.Thing.ThingName}/*'),
        ),
      ],
      request: {
        ...base,
        thingName: 'dev-1',
        action: 'iot:Publish',
        resource: topic('dt/dev-2/temp'),
      },
      decision: 'implicit-deny',
    },
    {
      name: 'an unresolvable thing variable never matches (not even as empty)',
      policies: [
        policy(allow('iot:Publish', 'arn:aws:iot:*:*:topic/dt/${iot:Connection.Thing.ThingName}*')),
      ],
      request: { ...base, action: 'iot:Publish', resource: topic('dt/anything') },
      decision: 'implicit-deny',
    },
    {
      name: 'IsAttached condition true holds for an attached thing',
      policies: [
        policy(allow('iot:Connect', '*', { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } })),
      ],
      request: { ...base, thingName: 'dev-1', action: 'iot:Connect', resource: client('dev-1') },
      decision: 'allow',
    },
    {
      name: 'IsAttached condition fails without an attached thing',
      policies: [
        policy(
          allow('iot:Connect', '*', { Bool: { 'iot:Connection.Thing.IsAttached': ['true'] } }),
        ),
      ],
      request: { ...base, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'implicit-deny',
    },
    {
      name: 'explicit isAttached overrides the default',
      policies: [
        policy(allow('iot:Connect', '*', { Bool: { 'iot:Connection.Thing.IsAttached': true } })),
      ],
      request: { ...base, isAttached: true, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'allow',
    },
    {
      name: 'StringLike condition on the client id',
      policies: [policy(allow('iot:Connect', '*', { StringLike: { 'iot:ClientId': 'dev-*' } }))],
      request: { ...base, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'allow',
    },
    {
      name: 'unknown condition operator fails closed',
      policies: [
        policy(
          allow('iot:Connect', '*', {
            DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' },
          }),
        ),
      ],
      request: { ...base, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'implicit-deny',
    },
    {
      name: 'a single Statement object (not a list) is accepted',
      policies: [{ Version: '2012-10-17', Statement: allow('iot:Connect', '*') }],
      request: { ...base, action: 'iot:Connect', resource: client('dev-1') },
      decision: 'allow',
    },
    {
      name: 'resources are case-sensitive',
      policies: [policy(allow('iot:Publish', topic('A')))],
      request: { ...base, action: 'iot:Publish', resource: topic('a') },
      decision: 'implicit-deny',
    },
  ];

  it.each(cases)('$name', ({ policies, request, decision }) => {
    const result = evaluatePolicies(policies, request);
    expect(result).toEqual({ allowed: decision === 'allow', decision });
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['bad Effect', policy({ Effect: 'Maybe', Action: 'iot:*', Resource: '*' })],
    ['missing Resource', policy({ Effect: 'Allow', Action: 'iot:*' })],
    ['non-string Action', policy({ Effect: 'Allow', Action: [1], Resource: '*' })],
  ])('rejects a malformed document: %s', (_name, document) => {
    expect(() => validatePolicyDocument(document)).toThrow(
      expect.objectContaining({ name: 'MalformedPolicyError' }),
    );
    expect(() =>
      evaluatePolicies([document], { ...base, action: 'iot:Connect', resource: client('dev-1') }),
    ).toThrow(expect.objectContaining({ name: 'MalformedPolicyError' }));
  });
});
