import type { FleetDeviceRunnerConfig } from '@thingcert/contracts';
import { describe, expect, it } from 'vitest';
import { config, noFile } from '../test/resolve-config';

const claimFlags = [
  '--claim-template',
  'fleet-template',
  '--claim-pointer-key',
  'claim/current.json',
  '--thing-name-prefix',
  'fleet-',
];
const base = ['run', '--endpoint', 'e.example', '--bucket', 'b'];

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Function: resolveCommand (provisioning by claim)', () => {
  it('makes the thing from the prefix and the device id, and reads no pointer of its own', async () => {
    const resolved = await config([...base, ...claimFlags, '--device-id', 'i-0abc'], {
      STATE_DIRECTORY: '/var/lib/x',
    });
    expect(resolved).toMatchObject({
      thing: 'fleet-i-0abc',
      pointerKey: undefined,
      objectKeys: undefined,
      credentialsDir: '/var/lib/x/credentials/fleet-i-0abc',
      claim: {
        templateName: 'fleet-template',
        claimPointerKey: 'claim/current.json',
        thingNamePrefix: 'fleet-',
        deviceId: 'i-0abc',
      },
    });
  });

  it('has no claim without the claim settings', async () => {
    expect((await config([...base, '--thing', 't1'])).claim).toBeUndefined();
  });

  it('reads the claim settings from THINGCERT_* variables', async () => {
    const resolved = await config(['run'], {
      THINGCERT_ENDPOINT: 'localhost',
      THINGCERT_BUCKET: 'b',
      THINGCERT_CLAIM_TEMPLATE: 'env-template',
      THINGCERT_CLAIM_POINTER_KEY: 'env/current.json',
      THINGCERT_THING_NAME_PREFIX: 'env-',
      THINGCERT_DEVICE_ID: 'd1',
    });
    expect(resolved).toMatchObject({
      thing: 'env-d1',
      claim: { templateName: 'env-template', claimPointerKey: 'env/current.json' },
    });
  });

  it('reads a fleet launch template configuration file, the device id given by flag', async () => {
    const file: FleetDeviceRunnerConfig = {
      bucket: 'creds',
      endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
      topic: 'test/topic',
      count: 5,
      message: 'Hello',
      protocol: 'mqtt3',
      region: 'eu-west-1',
      forever: true,
      claim: {
        templateName: 'file-template',
        claimCredentialPointerObjectKey: 'claim/current.json',
        thingNamePrefix: 'file-',
      },
    };
    const read = (path: string) =>
      path === '/etc/r.json' ? Promise.resolve(JSON.stringify(file)) : noFile(path);
    const resolved = await config(
      ['run', '--config', '/etc/r.json', '--device-id', 'i-1', '--claim-template', 'flag-template'],
      {},
      read,
    );
    expect(resolved).toMatchObject({
      thing: 'file-i-1',
      bucket: 'creds',
      forever: true,
      claim: { templateName: 'flag-template', claimPointerKey: 'claim/current.json' },
    });
  });

  it.each([
    [
      'a claim setting alone',
      [...base, '--claim-template', 'x', '--device-id', 'd'],
      /--claim-template, --claim-pointer-key, --thing-name-prefix go together/,
    ],
    ['no device id', [...base, ...claimFlags], /missing --device-id/],
    [
      'a device id without a claim',
      [...base, '--thing', 't1', '--device-id', 'd'],
      /--device-id is for provisioning by claim/,
    ],
    [
      'no bucket',
      ['run', '--endpoint', 'e', ...claimFlags, '--device-id', 'd'],
      /missing --bucket/,
    ],
    [
      'credentials of its own',
      [...base, ...claimFlags, '--device-id', 'd', '--cert', 'c', '--key', 'k'],
      /--cert, --key cannot be combined with provisioning by claim/,
    ],
    [
      'a pointer of its own',
      [...base, ...claimFlags, '--device-id', 'd', '--credential-pointer-object-key', 'p'],
      /--credential-pointer-object-key cannot be combined/,
    ],
    [
      'a device id that is no part of a thing name',
      [...base, ...claimFlags, '--device-id', 'a/b'],
      /device id "a\/b" is not/,
    ],
    [
      'another thing',
      [...base, ...claimFlags, '--device-id', 'd', '--thing', 'other'],
      /--thing 'other' is not the thing provisioning by claim makes \('fleet-d'/,
    ],
  ])('refuses %s (exit 2 with usage)', async (_what, argv, message) => {
    await expect(config(argv)).rejects.toMatchObject({ name: 'UsageError', message });
  });

  it('accepts --thing when it is the thing the claim makes', async () => {
    const resolved = await config([
      ...base,
      ...claimFlags,
      '--device-id',
      'd',
      '--thing',
      'fleet-d',
    ]);
    expect(resolved.thing).toBe('fleet-d');
  });

  it.each([
    [{ claim: 'x' }, /"claim" must be an object/],
    [{ claim: { templateName: 1 } }, /"claim.templateName" must be a string/],
    [{ claim: { template: 'x' } }, /unknown key "claim.template"/],
  ])('refuses a bad "claim" in the file: %j', async (file, message) => {
    const read = () => Promise.resolve(JSON.stringify(file));
    await expect(
      config([...base, '--thing', 't', '--config', '/c.json'], {}, read),
    ).rejects.toMatchObject({ name: 'UsageError', message });
  });

  it('names the file key of a claim setting given there', async () => {
    const read = () =>
      Promise.resolve(JSON.stringify({ claim: { templateName: ' ' }, deviceId: 'd' }));
    await expect(config([...base, '--config', '/c.json'], {}, read)).rejects.toMatchObject({
      message: '"claim.templateName" in /c.json must not be empty',
    });
  });
});
