#!/usr/bin/env node
// Runs before `cdk deploy|diff|destroy` (Nx target `preflight`), needs no build,
// and fails in seconds with a clear message when no AWS credentials can be
// found, instead of letting the CDK CLI fail after synthesis.
import { pathToFileURL } from 'node:url';
// A CommonJS package: Node's ESM loader gives no named exports for it.
import credentialProviderNode from '@aws-sdk/credential-provider-node';

const { defaultProvider } = credentialProviderNode;

/** How long the whole credential chain may take (IMDS probes time out in about 1 s). */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * @typedef {{ ok: true, accessKeyHint: string } | { ok: false, message: string }} PreflightResult
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
      return { ok: false, message: failureMessage('the provider returned no access key') };
    }
    // Only a hint: the last four characters identify the key without exposing it.
    return { ok: true, accessKeyHint: `…${credentials.accessKeyId.slice(-4)}` };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { ok: false, message: failureMessage(reason) };
  } finally {
    clearTimeout(timer);
  }
}

/** @param {string} reason */
function failureMessage(reason) {
  return [
    'thingcert deploy preflight: no AWS credentials found.',
    `  (${reason})`,
    '  Configure credentials first, for example one of:',
    '    export AWS_PROFILE=<profile>          # a profile from ~/.aws/config (run `aws sso login` for SSO)',
    '    export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...]',
    '  and bootstrap the account/region once: pnpm --filter @thingcert/infra exec cdk bootstrap',
  ].join('\n');
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const result = await checkCredentials();
  if (result.ok) {
    console.log(
      `thingcert deploy preflight: AWS credentials found (access key ${result.accessKeyHint}).`,
    );
  } else {
    console.error(result.message);
    process.exitCode = 1;
  }
}
