import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Options for {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode of the new file, applied at creation (before any byte is written). @default 0o600 */
  readonly mode?: number;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole
 * new one, never a half-written key: write to a temporary file created with
 * `mode` in the same directory, fsync it, then rename it over `path` and fsync
 * the directory. The temporary file is removed if anything fails.
 *
 * @example
 * ```ts
 * await writeFileAtomic('/var/lib/thingcert/thing-1/private.pem.key', pem, { mode: 0o600 });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx' fails if the name exists, so a planted symlink cannot redirect the write.
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      // The umask may have cleared bits of `mode`; never widened it, but make it exact.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes the rename durable; some filesystems refuse to open a directory, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort: the rename itself is already atomic
  } finally {
    await handle?.close();
  }
}
