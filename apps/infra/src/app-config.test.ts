import { describe, expect, it } from 'vitest';
import { DEFAULT_APP_CONFIG, readAppConfig } from './app-config';
import { isInvalidAppConfigError } from './errors';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('Function: readAppConfig', () => {
  it("defaults to the seed's topology: one thing, test/topic, 5 messages", () => {
    expect(readAppConfig(from({}))).toEqual({
      provisioning: 'seed',
      stackName: 'Thingcert',
      region: undefined,
      thingNames: ['thingcert-device-1'],
      things: 1,
      maxDevices: 1,
      topic: 'test/topic',
      messageCount: 5,
      instanceType: 't4g.micro',
      keyMode: 'server',
      protocol: 'mqtt3',
      rotationToken: undefined,
    });
    expect(readAppConfig(from({}))).toEqual(DEFAULT_APP_CONFIG);
  });

  it('reads -c strings', () => {
    const config = readAppConfig(
      from({
        stackName: 'Fleet-2',
        region: 'eu-central-1',
        thingNames: 'dev-1, dev-2',
        topic: 'dt/fleet',
        messageCount: '12',
        instanceType: 't3.small',
        keyMode: 'csr',
        protocol: 'mqtt5',
        rotationToken: '2026-11-28',
      }),
    );
    expect(config).toEqual({
      provisioning: 'seed',
      stackName: 'Fleet-2',
      region: 'eu-central-1',
      thingNames: ['dev-1', 'dev-2'],
      things: 2,
      maxDevices: 2,
      topic: 'dt/fleet',
      messageCount: 12,
      instanceType: 't3.small',
      keyMode: 'csr',
      protocol: 'mqtt5',
      rotationToken: '2026-11-28',
    });
  });

  it('reads cdk.json values (arrays and numbers)', () => {
    const config = readAppConfig(from({ thingNames: ['a', 'b'], messageCount: 3 }));
    expect(config.thingNames).toEqual(['a', 'b']);
    expect(config.messageCount).toBe(3);
  });

  it('selects the claim flow with provisioning=claim, sized by things and maxDevices', () => {
    expect(readAppConfig(from({ provisioning: 'claim', things: '50' }))).toMatchObject({
      provisioning: 'claim',
      thingNames: [],
      things: 50,
      maxDevices: 50,
    });
    expect(
      readAppConfig(from({ provisioning: 'claim', things: 5000, maxDevices: '6000' })),
    ).toMatchObject({ things: 5000, maxDevices: 6000 });
    expect(
      readAppConfig(from({ provisioning: 'claim', thingNames: 'thingcert-device-1' })),
    ).toMatchObject({ things: 1, thingNames: [] });
  });

  it('names seed devices thingcert-device-1..N with things=N, over the thingNames of cdk.json', () => {
    expect(
      readAppConfig(from({ thingNames: 'thingcert-device-1', things: '3' })).thingNames,
    ).toEqual(['thingcert-device-1', 'thingcert-device-2', 'thingcert-device-3']);
  });

  it("uses the CLI's region when no region is given, and the context's when it is", () => {
    expect(readAppConfig(from({}), 'us-west-2').region).toBe('us-west-2');
    expect(readAppConfig(from({ region: 'eu-west-1' }), 'us-west-2').region).toBe('eu-west-1');
  });

  it.each([
    ['fails if the stack name is invalid', { stackName: '1stack' }, /stackName/],
    ['fails if the region is not a region', { region: 'mars' }, /region/],
    ['fails if a thing name is empty', { thingNames: 'a,,b' }, /empty name/],
    ['fails if thingNames is neither string nor string array', { thingNames: 3 }, /thingNames/],
    ['fails if messageCount is not a positive integer', { messageCount: '0' }, /messageCount/],
    ['fails if the protocol is unknown', { protocol: 'mqtt4' }, /protocol/],
    ['fails if the rotation token has spaces', { rotationToken: 'a b' }, /rotationToken/],
    ['fails if messageCount is not a number', { messageCount: 'five' }, /messageCount/],
    ['fails if the instance type is malformed', { instanceType: 'big' }, /instanceType/],
    ['fails if the key mode is unknown', { keyMode: 'hsm' }, /keyMode/],
    ['fails if the topic is not a string', { topic: ['a'] }, /topic must be a string/],
    ['fails if the provisioning mode is unknown', { provisioning: 'jitp' }, /provisioning/],
    ['fails if things is not a positive integer', { things: '0' }, /things must be/],
    ['fails if the seed flow is over its size', { things: '11' }, /from 1 to 10/],
    ['fails if seed gets maxDevices', { maxDevices: '5' }, /claim only/],
    [
      'fails if claim maxDevices is under things',
      { provisioning: 'claim', things: '5', maxDevices: '4' },
      /at least things/,
    ],
  ])('%s', (_label, values, message) => {
    let thrown: unknown;
    try {
      readAppConfig(from(values));
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidAppConfigError(thrown)).toBe(true);
    expect(String(thrown)).toMatch(message);
  });
});
