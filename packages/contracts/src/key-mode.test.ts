import { describe, expect, it } from 'vitest';
import {
  defaultKeyAlgorithm,
  isKeyAlgorithm,
  isKeyMode,
  KEY_ALGORITHMS,
  KEY_MODES,
} from './key-mode';

describe('Contract: key modes and algorithms', () => {
  it('lists the modes and algorithms the provisioner implements', () => {
    expect(KEY_MODES).toEqual(['server', 'csr']);
    expect(KEY_ALGORITHMS).toEqual(['EC_P256', 'RSA_2048']);
  });

  it('recognises exactly the listed values', () => {
    expect(KEY_MODES.every(isKeyMode)).toBe(true);
    expect(KEY_ALGORITHMS.every(isKeyAlgorithm)).toBe(true);
    for (const value of ['hsm', 'SERVER', '', undefined, 42]) expect(isKeyMode(value)).toBe(false);
    for (const value of ['ED25519', 'ec_p256', '', null]) expect(isKeyAlgorithm(value)).toBe(false);
  });

  it('defaults to RSA-2048 in server mode (all AWS IoT makes) and EC P-256 in csr mode', () => {
    expect(defaultKeyAlgorithm('server')).toBe('RSA_2048');
    expect(defaultKeyAlgorithm('csr')).toBe('EC_P256');
  });
});
