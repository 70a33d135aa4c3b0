import { Token } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { isInvalidConstructPropsError } from './errors';
import { assertValidThingName, assertValidTopic, assertValidTopics } from './iot-names';

describe('Function: assertValidThingName', () => {
  it.each(['dev-1', 'a', 'Sensor_01:eu', 'x'.repeat(128)])('accepts %s', (name) => {
    expect(() => assertValidThingName(name)).not.toThrow();
  });

  it.each([
    ['an empty name', ''],
    ['a name with a space', 'dev 1'],
    ['a name with a slash', 'dev/1'],
    ['a name with a policy variable', '${iot:ClientId}'],
    ['a name of 129 characters', 'x'.repeat(129)],
    ['a name with a wildcard', 'dev-*'],
  ])('fails for %s', (_label, name) => {
    expect(() => assertValidThingName(name)).toThrow(/Invalid thing name/);
  });

  it('fails for a token, which could not be checked', () => {
    const token = Token.asString({ Ref: 'Name' });
    expect(() => assertValidThingName(token)).toThrow(/literal/);
  });

  it('throws an InvalidConstructPropsError', () => {
    let thrown: unknown;
    try {
      assertValidThingName('bad name');
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidConstructPropsError(thrown)).toBe(true);
  });
});

describe('Function: assertValidTopic', () => {
  it.each(['test/topic', 'a', 'dt/sensor-1/temp', 'a/b/c/d/e/f/g/h'])('accepts %s', (topic) => {
    expect(() => assertValidTopic(topic)).not.toThrow();
  });

  it.each([
    ['an empty topic', '', /empty/],
    ['an MQTT single-level wildcard', 'test/+', /MQTT wildcard/],
    ['an MQTT multi-level wildcard', 'test/#', /MQTT wildcard/],
    ['a policy wildcard', 'test/*', /policy wildcard/],
    ['a policy single-character wildcard', 'test/?', /policy wildcard/],
    ['a policy variable', 'dt/${iot:ClientId}', /policy wildcard or variable/],
    ['a reserved topic', '$aws/things/x/shadow/update', /reserved/],
    ['a leading slash', '/test', /start or end/],
    ['a trailing slash', 'test/', /start or end/],
    ['eight slashes', 'a/b/c/d/e/f/g/h/i', /more than 7/],
    ['more than 256 bytes', 'é'.repeat(129), /256 bytes/],
    ['a control character', 'test\ntopic', /control character/],
  ])('fails for %s', (_label, topic, message) => {
    expect(() => assertValidTopic(topic)).toThrow(message);
  });
});

describe('Function: assertValidTopics', () => {
  it('fails for an empty list', () => {
    expect(() => assertValidTopics([])).toThrow(/at least one topic/);
  });

  it('fails for duplicates', () => {
    expect(() => assertValidTopics(['a/b', 'a/b'])).toThrow(/duplicates/);
  });

  it('returns a copy in order', () => {
    const topics = ['b', 'a'];
    const result = assertValidTopics(topics);
    expect(result).toEqual(['b', 'a']);
    expect(result).not.toBe(topics);
  });
});
