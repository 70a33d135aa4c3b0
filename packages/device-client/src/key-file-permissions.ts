import { chmod, mkdir, stat } from 'node:fs/promises';
import { InsecureKeyFileError } from './errors';

/** Bits that let group or others read, write or enter. */
const GROUP_OTHER_BITS = 0o077;

/**
 * Refuses a private-key file that group or others may read (or write): such a
 * key must be considered leaked, so we stop and tell the operator, naming the
 * file and the `chmod` that fixes it, instead of silently tightening it.
 * Resolves with `false` when the file does not exist.
 *
 * @example
 * ```ts
 * await assertKeyFilePrivate('/etc/thingcert/private.pem.key'); // throws InsecureKeyFileError if 0644
 * ```
 */
export async function assertKeyFilePrivate(path: string): Promise<boolean> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    const fix = `chmod 600 ${path}`;
    throw new InsecureKeyFileError(
      `Private key file ${path} is accessible by group or others (mode ${octal(mode)}). ` +
        `Treat the key as exposed; if you still trust it, fix the permissions with: ${fix}`,
      { path, fix },
    );
  }
  return true;
}

/**
 * Creates `dir` (and parents) with mode 0700, or checks that an existing one is
 * not accessible by group or others.
 */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await stat(dir);
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    // A directory we just created can still be wider than 0700 if it existed
    // before; refuse rather than guess who else relies on it.
    const fix = `chmod 700 ${dir}`;
    throw new InsecureKeyFileError(
      `Credentials directory ${dir} is accessible by group or others (mode ${octal(mode)}). ` +
        `Fix it with: ${fix}`,
      { path: dir, fix },
    );
  }
  // mkdir honours the umask; make the mode exact for a directory we own.
  await chmod(dir, 0o700);
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
