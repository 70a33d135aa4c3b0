import type { StackEnvironment } from '../src/resource-provider';

/**
 * A stack environment for provider tests (no network): stack `Thingcert` in
 * eu-west-1, account 000000000000, every line it prints pushed onto `lines`.
 * `overrides` supply what the test needs (assets, metadata).
 */
export function testStackEnvironment(
  lines: string[],
  overrides: Pick<StackEnvironment, 'assetDir' | 'metadataOf'>,
): StackEnvironment {
  return {
    stackName: 'Thingcert',
    stackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/Thingcert/id',
    region: 'eu-west-1',
    accountId: '000000000000',
    cloudEnv: {},
    log: (line) => lines.push(line),
    relay: (source, line) => lines.push(`[${source}] ${line}`),
    ...overrides,
  };
}
