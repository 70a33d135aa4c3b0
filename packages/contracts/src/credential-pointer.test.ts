import { describe, expect, it } from 'vitest';
import {
  certificateObjectKeys,
  certificatesFolder,
  credentialPointerKey,
  InvalidCredentialPointerError,
  parseCredentialPointer,
  serializeCredentialPointer,
  type CredentialPointer,
} from './credential-pointer';

const ID = 'a'.repeat(64);

describe('Function: credentialPointerKey', () => {
  it('is current.json in the thing folder, after the key prefix', () => {
    expect(credentialPointerKey({ thingName: 'sensor-1' })).toBe('sensor-1/current.json');
    expect(credentialPointerKey({ thingName: 'sensor-1', keyPrefix: 'fleet/' })).toBe(
      'fleet/sensor-1/current.json',
    );
  });
});

describe('Function: certificatesFolder', () => {
  it('holds every certificate folder of the thing, and nothing of another thing', () => {
    const folder = certificatesFolder({ thingName: 't', keyPrefix: 'p/' });
    expect(folder).toBe('p/t/certificates/');
    const keys = certificateObjectKeys({ thingName: 't', keyPrefix: 'p/' }, ID);
    for (const key of [keys.certificate, keys.publicKey, keys.privateKey]) {
      expect(key.startsWith(folder)).toBe(true);
    }
    expect(credentialPointerKey({ thingName: 't', keyPrefix: 'p/' }).startsWith(folder)).toBe(
      false,
    );
    expect(certificatesFolder({ thingName: 't1', keyPrefix: 'p/' }).startsWith('p/t/')).toBe(false);
  });
});

describe('Function: certificateObjectKeys', () => {
  it('gives each certificate its own folder, so two certificates never share a key', () => {
    const a = certificateObjectKeys({ thingName: 't', keyPrefix: 'p/' }, ID);
    const b = certificateObjectKeys({ thingName: 't', keyPrefix: 'p/' }, 'b'.repeat(64));
    expect(a).toEqual({
      certificate: `p/t/certificates/${ID}/device.pem.crt`,
      publicKey: `p/t/certificates/${ID}/public.pem.key`,
      privateKey: `p/t/certificates/${ID}/private.pem.key`,
    });
    expect(Object.values(a).filter((key) => Object.values(b).includes(key))).toEqual([]);
  });

  it('takes each file name given', () => {
    expect(
      certificateObjectKeys({ thingName: 't', fileNames: { privateKey: 'k.pem' } }, ID).privateKey,
    ).toBe(`t/certificates/${ID}/k.pem`);
  });
});

describe('Function: parseCredentialPointer', () => {
  const pointer: CredentialPointer = {
    version: 1,
    certificateId: ID,
    certificateArn: `arn:aws:iot:eu-west-1:111122223333:cert/${ID}`,
    objects: certificateObjectKeys({ thingName: 't' }, ID),
    updatedAt: '2026-12-05T00:00:00.000Z',
  };

  it('reads back what serializeCredentialPointer wrote', () => {
    expect(parseCredentialPointer(serializeCredentialPointer(pointer))).toEqual(pointer);
  });

  it.each([
    ['not json', 'not JSON'],
    ['[]', 'version undefined is not 1'],
    ['{"version":1}', '"certificateId" is missing'],
    [JSON.stringify({ ...pointer, version: 2 }), 'version 2 is not 1'],
    [JSON.stringify({ ...pointer, certificateArn: '' }), '"certificateArn" is missing'],
    [
      JSON.stringify({ ...pointer, objects: { ...pointer.objects, privateKey: undefined } }),
      '"objects.privateKey" is missing',
    ],
  ])('refuses %s with a one-line reason', (body, reason) => {
    expect(() => parseCredentialPointer(body)).toThrow(InvalidCredentialPointerError);
    expect(() => parseCredentialPointer(body)).toThrow(
      `Credential pointer is not valid: ${reason}`,
    );
  });
});
