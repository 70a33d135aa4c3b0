import { describe, expect, it } from 'vitest';
import {
  credentialSwitchWindowSeconds,
  DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
  MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS,
} from './credential-switch-window';

describe('credentialSwitchWindowSeconds', () => {
  it('covers one whole check interval and a margin to reconnect', () => {
    expect(credentialSwitchWindowSeconds(DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS)).toBe(33);
    expect(credentialSwitchWindowSeconds(1_000)).toBe(4);
    expect(credentialSwitchWindowSeconds(1_500)).toBe(5);
  });

  it('refuses an interval whose window the provisioner could not hold', () => {
    expect(() => credentialSwitchWindowSeconds(60_000)).toThrow(/check at most every 42000 ms/);
    expect(() => credentialSwitchWindowSeconds(0)).toThrow(RangeError);
    expect(credentialSwitchWindowSeconds(42_000)).toBe(MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS);
  });
});
