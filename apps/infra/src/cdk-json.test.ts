import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../test/fake-bundles';
import { CONTEXT_KEYS } from './app-config';

const require = createRequire(import.meta.url);

/** What `cdk init` of the installed aws-cdk-lib writes into a new app's cdk.json. */
const recommended = JSON.parse(
  readFileSync(require.resolve('aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
) as Record<string, unknown>;

describe('File: cdk.json', () => {
  const context = cdkJsonContext();

  it('sets every feature flag the installed aws-cdk-lib recommends, at its recommended value', () => {
    const flags = Object.fromEntries(Object.entries(context).filter(([key]) => key in recommended));
    expect(flags).toEqual(recommended);
  });

  it('sets the flag DeviceInstance needs, as the app (the library sets none)', () => {
    expect(context['@aws-cdk/aws-ec2:uniqueImdsv2TemplateName']).toBe(true);
  });

  it('sets nothing else but settings the app reads', () => {
    const others = Object.keys(context).filter((key) => !(key in recommended));
    expect(others.filter((key) => !(CONTEXT_KEYS as readonly string[]).includes(key))).toEqual([]);
  });
});
