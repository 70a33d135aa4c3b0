import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TemplateError } from './errors';

/** Where the infra app's built entry point lives, relative to the workspace root. */
export const INFRA_APP_ENTRY = join('apps', 'infra', 'dist', 'main.js');

/**
 * Synthesizes the CDK app the way the CDK CLI does (the app reads its output
 * directory from `CDK_OUTDIR` and its context from `CDK_CONTEXT_JSON`), with
 * no AWS credentials and no network, into `outdir`.
 *
 * The caller owns `outdir`: it creates it (or names one the app may create)
 * and removes it when done with the assembly, which holds the Lambda and
 * device-runner assets a deployment runs from.
 *
 * @example
 * ```ts
 * const outdir = mkdtempSync(join(tmpdir(), 'thingcert-cdk-out-'));
 * try {
 *   synthesize({ workspaceRoot, outdir, context: { thingCount: 3 } });
 *   const [artifact] = readCloudAssembly(outdir);
 * } finally {
 *   rmSync(outdir, { recursive: true, force: true });
 * }
 * ```
 */
export function synthesize(options: {
  workspaceRoot: string;
  /** The cloud assembly directory to write (`cdk.out`). */
  outdir: string;
  context?: Record<string, unknown>;
}): void {
  const entry = join(options.workspaceRoot, INFRA_APP_ENTRY);
  if (!existsSync(entry)) {
    throw new TemplateError(`${entry} not found: build the infra app first (pnpm nx build infra)`);
  }
  const result = spawnSync(process.execPath, [entry], {
    cwd: join(options.workspaceRoot, 'apps', 'infra'),
    env: {
      ...process.env,
      CDK_OUTDIR: options.outdir,
      CDK_CONTEXT_JSON: JSON.stringify(options.context ?? {}),
      CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
      CDK_DEFAULT_ACCOUNT: process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000',
    },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const reason = (result.stderr || result.stdout || '').trim().split('\n').slice(-5).join('\n');
    throw new TemplateError(`cdk synth failed (exit ${result.status}): ${reason}`);
  }
}
