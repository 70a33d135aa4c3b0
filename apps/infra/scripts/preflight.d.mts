/** Outcome of {@link checkCredentials}. */
export type PreflightResult = { ok: true; accessKeyHint: string } | { ok: false; message: string };

/**
 * Resolves AWS credentials the way the CDK CLI does; never rejects.
 *
 * @param options.provider credential provider (default: the SDK's Node.js chain)
 * @param options.timeoutMs give up after this long (default 10 000)
 */
export function checkCredentials(options?: {
  provider?: () => Promise<{ accessKeyId: string }>;
  timeoutMs?: number;
}): Promise<PreflightResult>;
