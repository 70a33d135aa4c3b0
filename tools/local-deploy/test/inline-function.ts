import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalFunction } from '../src/lambda-invoker';

/**
 * A function whose code is `code` as `index.js` in a new folder under `dir`
 * (what the deployer registers for inline `Code.ZipFile`), named at random,
 * in eu-west-1 of account 000000000000, handler `index.handler`.
 */
export function inlineFunction(
  dir: string,
  code: string,
  options: { timeoutSeconds?: number; credentials?: Readonly<Record<string, string>> } = {},
): LocalFunction {
  const name = `fn${Math.random().toString(16).slice(2)}`;
  const assetDir = join(dir, name);
  mkdirSync(assetDir);
  writeFileSync(join(assetDir, 'index.js'), code);
  return {
    functionName: name,
    arn: `arn:aws:lambda:eu-west-1:000000000000:function:${name}`,
    assetDir,
    handler: 'index.handler',
    timeoutSeconds: options.timeoutSeconds ?? 5,
    environment: {},
    credentials: options.credentials ?? {},
  };
}
