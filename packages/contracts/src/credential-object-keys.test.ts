import { describe, expect, it } from 'vitest';
import { credentialObjectKeys, thingFolder } from './credential-object-keys';

describe('Function: credentialObjectKeys', () => {
  it('puts the seed file names in the thing folder at the bucket root', () => {
    expect(credentialObjectKeys({ thingName: 'sensor-1' })).toEqual({
      certificate: 'sensor-1/device.pem.crt',
      publicKey: 'sensor-1/public.pem.key',
      privateKey: 'sensor-1/private.pem.key',
    });
  });

  it('puts the key prefix in front and takes each file name given', () => {
    expect(
      credentialObjectKeys({
        thingName: 'sensor-1',
        keyPrefix: 'fleet/a/',
        fileNames: { certificate: 'cert.pem', privateKey: undefined },
      }),
    ).toEqual({
      certificate: 'fleet/a/sensor-1/cert.pem',
      publicKey: 'fleet/a/sensor-1/public.pem.key',
      privateKey: 'fleet/a/sensor-1/private.pem.key',
    });
  });
});

describe('Function: thingFolder', () => {
  it('is the prefix and the thing name, ending with a slash', () => {
    expect(thingFolder({ thingName: 't' })).toBe('t/');
    expect(thingFolder({ thingName: 't', keyPrefix: 'devices/' })).toBe('devices/t/');
  });
});
