/** Outcome of {@link checkCredentials}. */
export type PreflightResult = { ok: true; accessKeyHint: string } | { ok: false; message: string };

/** Sections of the shared AWS credentials and config files, by profile name. */
export type IniSections = Record<string, Record<string, string | undefined>>;

/** Loads the shared AWS credentials and config files. */
export type LoadSharedFiles = () => Promise<{
  configFile: IniSections;
  credentialsFile: IniSections;
}>;

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

/**
 * The region a deploy goes to: `-c region=` in `args`, else the CDK CLI's
 * environment variables and shared config files; `undefined` when none.
 */
export function findRegion(options?: {
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  loadFiles?: LoadSharedFiles;
}): Promise<string | undefined>;

/** Credentials, then a region; never rejects. */
export function preflight(options?: {
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  provider?: () => Promise<{ accessKeyId: string }>;
  timeoutMs?: number;
  loadFiles?: LoadSharedFiles;
}): Promise<{ ok: true; summary: string } | { ok: false; message: string }>;
