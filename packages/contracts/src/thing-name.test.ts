import { describe, expect, it } from 'vitest';
import { THING_NAME_PATTERN } from './thing-name';

describe('Contract: THING_NAME_PATTERN', () => {
  it.each(['a', 'sensor-1', 'Fleet:unit_7', 'x'.repeat(128)])('accepts %s', (name) => {
    expect(THING_NAME_PATTERN.test(name)).toBe(true);
  });

  it.each(['', 'has space', 'x'.repeat(129), 'a/b', 'ä', 'a.b'])('refuses %j', (name) => {
    expect(THING_NAME_PATTERN.test(name)).toBe(false);
  });
});
