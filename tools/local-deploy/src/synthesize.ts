import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemplateError } from './errors';

/** Where the infra app's built entry point lives, relative to the workspace root. */
export const INFRA_APP_ENTRY = join('apps', 'infra', 'dist', 'main.js');

/**
 * The image id a local run uses for every latest-Amazon-Linux lookup: the
 * CDK CLI would look the SSM parameter up once and keep the answer in
 * `cdk.context.json`; the local world has no SSM, so it answers a fixed id.
 */
export const LOCAL_AMI_ID = 'ami-0123456789abcdef0';

/** The context key of a pinned latest-Amazon-Linux image (`MachineImage.lookup`/`fromSsmParameter(..., { cachedInContext })`). */
const AMI_LOOKUP_KEY =
  /^ssm:account=[^:]+:parameterName=\/aws\/service\/ami-amazon-linux-latest\/[^:]+:region=[^:]+$/;

/** One entry of a cloud assembly's `manifest.json` `missing` list. */
interface MissingContext {
  readonly key: string;
  readonly provider?: string;
}

/**
 * The context the CDK CLI hands the app: `cdk.json`'s `context` (feature
 * flags and the app's defaults), then `cdk.context.json` (cached lookups),
 * then the run's own values on top.
 */
export function cliContext(
  appDirectory: string,
  context: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    ...jsonContext(join(appDirectory, 'cdk.json')),
    ...readCachedLookups(appDirectory),
    ...context,
  };
}

function jsonContext(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TemplateError(`${path} is not JSON`, { cause: error });
  }
  const context = (parsed as { context?: unknown } | null)?.context;
  return typeof context === 'object' && context !== null
    ? (context as Record<string, unknown>)
    : {};
}

function readCachedLookups(appDirectory: string): Record<string, unknown> {
  const path = join(appDirectory, 'cdk.context.json');
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new TemplateError(`${path} is not JSON`, { cause: error });
  }
}

/**
 * Local answers to the lookups a synth reported missing, as the CLI would
 * store them after looking them up: a fixed image id for every
 * latest-Amazon-Linux SSM parameter.
 *
 * @throws {TemplateError} for a lookup the local world cannot answer.
 */
export function localLookupValues(missing: readonly MissingContext[]): Record<string, string> {
  const values: Record<string, string> = {};
  const unknown: string[] = [];
  for (const { key } of missing) {
    if (AMI_LOOKUP_KEY.test(key)) values[key] = LOCAL_AMI_ID;
    else unknown.push(key);
  }
  if (unknown.length > 0) {
    throw new TemplateError(
      `the app needs context lookups the local run cannot answer: ${unknown.join(', ')}`,
    );
  }
  return values;
}

function missingOf(outdir: string): MissingContext[] {
  const manifest = join(outdir, 'manifest.json');
  if (!existsSync(manifest)) return [];
  const { missing } = JSON.parse(readFileSync(manifest, 'utf8')) as { missing?: MissingContext[] };
  return missing ?? [];
}

/**
 * Synthesizes the CDK app the way the CDK CLI does, with no AWS credentials
 * and no network, into `outdir`: the app reads its output directory from
 * `CDK_OUTDIR` and its context from `CDK_CONTEXT_JSON`, which holds
 * `cdk.json`'s context (feature flags), cached lookups and the run's
 * `context` on top (see {@link cliContext}). When the app reports missing
 * lookups, it is synthesized again with local answers (see
 * {@link localLookupValues}), as the CLI does after looking them up.
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
 * @throws {TemplateError} when the app is not built, the synth fails, or a lookup has no local answer.
 */
export function synthesize(options: {
  workspaceRoot: string;
  /** The cloud assembly directory to write (`cdk.out`). */
  outdir: string;
  context?: Record<string, unknown>;
}): void {
  const appDirectory = join(options.workspaceRoot, 'apps', 'infra');
  const entry = join(options.workspaceRoot, INFRA_APP_ENTRY);
  if (!existsSync(entry)) {
    throw new TemplateError(`${entry} not found: build the infra app first (pnpm nx build infra)`);
  }
  const context = cliContext(appDirectory, options.context);
  runApp(entry, appDirectory, options.outdir, context);
  const missing = missingOf(options.outdir);
  if (missing.length === 0) return;
  // The run's own values stay on top, as the CLI keeps -c above cached lookups.
  runApp(entry, appDirectory, options.outdir, {
    ...context,
    ...localLookupValues(missing),
    ...options.context,
  });
  const still = missingOf(options.outdir);
  if (still.length > 0) {
    throw new TemplateError(
      `the app still reports missing context: ${still.map(({ key }) => key).join(', ')}`,
    );
  }
}

function runApp(
  entry: string,
  appDirectory: string,
  outdir: string,
  context: Record<string, unknown>,
): void {
  const result = spawnSync(process.execPath, [entry], {
    cwd: appDirectory,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify(context),
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
