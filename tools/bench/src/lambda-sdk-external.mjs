// The provisioner's Lambda handler built with @aws-sdk/* left external, the
// variant that would use Lambda's runtime copy of the SDK: what bundling it saves.
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds it into `dir` (created) and returns the path of its `index.mjs`; the
 * SDK resolves from packages/cert-provisioner/node_modules.
 */
export async function buildSdkExternal(root, dir) {
  mkdirSync(dir, { recursive: true });
  // ESM resolution walks up from the file: a node_modules link next to it finds the SDK.
  symlinkSync(join(root, 'packages/cert-provisioner/node_modules'), join(dir, 'node_modules'));
  const { build } = await import('tsup');
  await build({
    entry: { index: join(root, 'packages/cert-provisioner/src/lambda.ts') },
    outDir: dir,
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    platform: 'node',
    target: 'node20',
    noExternal: [/^(?!@aws-sdk\/|@smithy\/)/],
    external: [/^@aws-sdk\//, /^@smithy\//],
    minify: true,
    silent: true,
    config: false,
    tsconfig: join(root, 'packages/cert-provisioner/tsconfig.json'),
  });
  return join(dir, 'index.mjs');
}
