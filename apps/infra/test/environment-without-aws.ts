import { join } from 'node:path';

/**
 * An environment for a child process with no way to find AWS credentials or
 * a region: no AWS variables, shared config files that do not exist under
 * `home`, no instance metadata. `extra` is added on top.
 */
export function environmentWithoutAws(
  home: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}
