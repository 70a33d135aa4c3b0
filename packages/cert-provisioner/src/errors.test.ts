import { describe, expect, it } from 'vitest';
import { describeCause, ProvisioningError } from './errors';

const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----';

describe('Function: describeCause', () => {
  it('names the error and keeps the first line of its message only', () => {
    const error = Object.assign(new Error('Rate exceeded\nsecond line'), {
      name: 'ThrottlingException',
    });

    expect(describeCause(error)).toBe('ThrottlingException: Rate exceeded');
  });

  it('redacts PEM blocks, also one that spans the first line break', () => {
    expect(describeCause(new Error(`bad body ${PRIVATE_KEY} after`))).toBe(
      'bad body [redacted PEM] after',
    );
    expect(describeCause(`cut off -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE`)).toBe(
      'cut off [redacted PEM]',
    );
  });

  it('bounds the length and describes non-errors', () => {
    expect(describeCause('x'.repeat(500))).toBe(`${'x'.repeat(400)}…`);
    expect(describeCause(42)).toBe('non-error thrown (number)');
  });
});

describe('Class: ProvisioningError', () => {
  it('keeps key material out of its message', () => {
    const error = new ProvisioningError(
      { thingName: 'sensor-1', step: 'storePrivateKey', compensation: 'done' },
      { cause: new Error(`upload of ${PRIVATE_KEY} failed`) },
    );

    expect(error.message).toBe(
      'Provisioning thing "sensor-1" failed at step storePrivateKey: upload of [redacted PEM] failed',
    );
    expect(error.message).not.toContain('MIIEvQIBADANBg');
  });
});
