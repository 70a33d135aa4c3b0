import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
 * then the run's own values on top. `localLookups` (answers the local world
 * gave earlier, see {@link localLookupsPath}) go below `cdk.context.json`, so
 * a value the user pinned there always wins.
 */
export function cliContext(
  appDirectory: string,
  context: Readonly<Record<string, unknown>> = {},
  localLookups: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    ...jsonContext(join(appDirectory, 'cdk.json')),
    ...localLookups,
    ...readCachedLookups(appDirectory),
    ...context,
  };
}

/**
 * Where a local run keeps the lookup answers it gave (see
 * {@link localLookupValues}), as the CDK CLI keeps its answers in
 * `cdk.context.json` so that the next synth needs one pass, not two (each
 * pass of the infra app is seconds of CPU). Kept under `node_modules/.cache`,
 * not in the app's `cdk.context.json`: the fixed local image id must never be
 * mistaken for a real pinned image by a deploy to AWS.
 */
export function localLookupsPath(workspaceRoot: string): string {
  return join(workspaceRoot, 'node_modules', '.cache', 'thingcert', 'local-lookups.json');
}

/** The kept local answers; none when the file is missing or unreadable (it is only a cache). */
function readLocalLookups(path: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * Adds `answers` to the kept local answers. Written to a temporary file and
 * renamed, so that parallel synths (test workers) never read half a file.
 */
function keepLocalLookups(path: string, answers: Readonly<Record<string, unknown>>): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ ...readLocalLookups(path), ...answers }, null, 2));
    renameSync(temporary, path);
  } catch {
    // Only a cache: the next synth answers the lookup again.
  }
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
 * {@link localLookupValues}), as the CLI does after looking them up, and the
 * answers are kept for the next synth (see {@link localLookupsPath}).
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
  /**
   * Run the CDK's built-in CloudFormation template validation (the
   * `@aws-cdk/core:validateAgainstDefaultRules` check, about half of each
   * synth's CPU). Only a client-side check of the template: CloudFormation
   * does not run it, and the deployer treats the template the same either
   * way. Tests that synthesize the same app again and again to deploy it turn
   * it off; the infra app's own tests validate every configuration.
   * @default true
   */
  validate?: boolean;
}): void {
  const appDirectory = join(options.workspaceRoot, 'apps', 'infra');
  const entry = join(options.workspaceRoot, INFRA_APP_ENTRY);
  if (!existsSync(entry)) {
    throw new TemplateError(`${entry} not found: build the infra app first (pnpm nx build infra)`);
  }
  const keptAnswers = localLookupsPath(options.workspaceRoot);
  const context = cliContext(appDirectory, options.context, readLocalLookups(keptAnswers));
  const validate = options.validate ?? true;
  runApp(entry, appDirectory, options.outdir, context, validate);
  const missing = missingOf(options.outdir);
  if (missing.length === 0) return;
  const answers = localLookupValues(missing);
  keepLocalLookups(keptAnswers, answers);
  // The run's own values stay on top, as the CLI keeps -c above cached lookups.
  runApp(
    entry,
    appDirectory,
    options.outdir,
    { ...context, ...answers, ...options.context },
    validate,
  );
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
  validate: boolean,
): void {
  const result = spawnSync(process.execPath, [entry], {
    cwd: appDirectory,
    env: {
      ...process.env,
      // The CDK's documented switch for its built-in template validation.
      ...(validate ? {} : { CDK_VALIDATION: 'false' }),
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
