import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './write-file-atomic';

describe('Function: writeFileAtomic', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'atomic-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('creates the file 0600 by default, whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      await writeFileAtomic(join(work, 'key'), 'secret');
    } finally {
      process.umask(previous);
    }
    expect((await stat(join(work, 'key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(work, 'key'), 'utf8')).toBe('secret');
  });

  it('tightens a loose existing file because it replaces it with a new inode', async () => {
    const path = join(work, 'key');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe('new');
  });

  it('keeps the old content and removes its temporary file when the rename fails', async () => {
    // A directory in the way makes rename fail after the temp file was written.
    const target = join(work, 'target');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'keep');
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect(await readdir(work)).toEqual(['target']);
    expect(await readFile(join(target, 'inside'), 'utf8')).toBe('keep');
  });
});
