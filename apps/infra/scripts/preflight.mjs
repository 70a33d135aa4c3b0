#!/usr/bin/env node
// Checks what `cdk deploy|diff|destroy` needs from the AWS side before
// anything builds (scripts/run-cdk.mjs runs it first), and fails in seconds
// with one line that says how to fix it, instead of the CDK CLI failing after
// the builds and the synthesis.
import { pathToFileURL } from 'node:url';
// A CommonJS package: Node's ESM loader gives no named exports for it.
import credentialProviderNode from '@aws-sdk/credential-provider-node';
import { loadSharedConfigFiles } from '@smithy/core/config';

const { defaultProvider } = credentialProviderNode;

/** How long the whole credential chain may take (IMDS probes time out in about 1 s). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** First words of every message, so a user knows which tool is talking. */
const PREFIX = 'thingcert deploy preflight:';

/**
 * @typedef {{ ok: true, accessKeyHint: string } | { ok: false, message: string }} PreflightResult
 * @typedef {Record<string, Record<string, string | undefined>>} IniSections
 * @typedef {() => Promise<{ configFile: IniSections, credentialsFile: IniSections }>} LoadSharedFiles
 */

/**
 * Resolves AWS credentials the way the CDK CLI does (environment, SSO and
 * shared profiles, process credentials, container and instance metadata).
 *
 * @param {{ provider?: () => Promise<{ accessKeyId: string }>, timeoutMs?: number }} [options]
 * @returns {Promise<PreflightResult>} never rejects
 */
export async function checkCredentials(options = {}) {
  const provider = options.provider ?? defaultProvider();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const credentials = await Promise.race([provider(), timeout]);
    if (
      !credentials ||
      typeof credentials.accessKeyId !== 'string' ||
      credentials.accessKeyId === ''
    ) {
      return { ok: false, message: credentialsMessage('the provider returned no access key') };
    }
    // Only a hint: the last four characters identify the key without exposing it.
    return { ok: true, accessKeyHint: `…${credentials.accessKeyId.slice(-4)}` };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { ok: false, message: credentialsMessage(reason) };
  } finally {
    clearTimeout(timer);
  }
}

/** @param {string} reason */
function credentialsMessage(reason) {
  return `${PREFIX} no AWS credentials found (${reason}); configure them first: export AWS_PROFILE=<profile> (run \`aws sso login\` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`;
}

/** Environment variables the CDK CLI reads a region from, in its order. */
const REGION_VARIABLES = [
  'AWS_REGION',
  'AMAZON_REGION',
  'AWS_DEFAULT_REGION',
  'AMAZON_DEFAULT_REGION',
];

/**
 * The region a deploy goes to: the app's `-c region=<region>` among `args`,
 * else where the CDK CLI looks (the environment variables above, then the
 * `region` of the profile and of `default` in the shared credentials and
 * config files). The CLI falls back to us-east-1 without a word where this
 * finds nothing; it also asks the EC2 instance metadata, which this does not.
 *
 * @param {{ args?: readonly string[], env?: NodeJS.ProcessEnv, loadFiles?: LoadSharedFiles }} [options]
 * @returns {Promise<string | undefined>}
 */
export async function findRegion(options = {}) {
  const env = options.env ?? process.env;
  const fromContext = contextValue(options.args ?? [], 'region');
  if (fromContext) return fromContext;
  for (const name of REGION_VARIABLES) if (env[name]) return env[name];
  const files = await (options.loadFiles ?? (() => loadSharedConfigFiles({ ignoreCache: true })))();
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  for (const name of [profile, 'default']) {
    const region = files.credentialsFile[name]?.region ?? files.configFile[name]?.region;
    if (region) return region;
  }
  return undefined;
}

/**
 * The value of `-c key=value` / `--context key=value` / `--context=key=value`
 * in CDK CLI arguments (the last one wins, as in the CLI).
 *
 * @param {readonly string[]} args
 * @param {string} key
 */
function contextValue(args, key) {
  let value;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const pair =
      arg === '-c' || arg === '--context'
        ? args[i + 1]
        : arg.startsWith('--context=')
          ? arg.slice('--context='.length)
          : undefined;
    if (pair?.startsWith(`${key}=`)) value = pair.slice(key.length + 1);
  }
  return value || undefined;
}

/**
 * Everything the preflight checks, in order: credentials, then a region.
 *
 * @param {{ args?: readonly string[], env?: NodeJS.ProcessEnv, provider?: () => Promise<{ accessKeyId: string }>, timeoutMs?: number, loadFiles?: LoadSharedFiles }} [options]
 * @returns {Promise<{ ok: true, summary: string } | { ok: false, message: string }>} never rejects
 */
export async function preflight(options = {}) {
  const credentials = await checkCredentials(options);
  if (!credentials.ok) return credentials;
  let region;
  try {
    region = await findRegion(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return {
      ok: false,
      message: regionMessage(`the AWS config files could not be read: ${reason}`),
    };
  }
  if (!region) return { ok: false, message: regionMessage('none is configured') };
  return {
    ok: true,
    summary: `${PREFIX} AWS credentials found (access key ${credentials.accessKeyHint}), region ${region}.`,
  };
}

/** @param {string} reason */
function regionMessage(reason) {
  return `${PREFIX} no AWS region (${reason}); set one first: export AWS_REGION=<region>, a region in your AWS profile, or -c region=<region>.`;
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const result = await preflight({ args: process.argv.slice(2) });
  if (result.ok) {
    console.log(result.summary);
  } else {
    console.error(result.message);
    process.exitCode = 1;
  }
}
