import { resolveCommand, type RunConfig } from '../src/run-config';

/** A config file reader that finds no file. */
export const noFile = (path: string): Promise<string> =>
  Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }));

/** A config file reader serving `content` by path. */
export const files =
  (content: Record<string, string>) =>
  (path: string): Promise<string> =>
    content[path] === undefined ? noFile(path) : Promise.resolve(content[path]);

/** The run configuration `argv`, `env` and the files `read` serves resolve to. */
export async function config(
  argv: string[],
  env: Record<string, string> = {},
  read: (path: string) => Promise<string> = noFile,
): Promise<RunConfig> {
  const command = await resolveCommand(argv, env, read);
  if (command.kind !== 'run') throw new Error('expected run');
  return command.config;
}
