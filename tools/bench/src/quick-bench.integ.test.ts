import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECTION_IDS } from './section-ids.mjs';

// `pnpm bench --quick` as part of `pnpm test`: every section of the harness
// at its smallest sizes against the built workspace (Nx builds what the
// sections run before this test: bench's dependencies and implicit
// dependencies). It asserts that the harness runs and reports, never a speed.
// As a test it runs beside the other projects' tests instead of alone, in the
// idle time of their waits.

const results = mkdtempSync(join(tmpdir(), 'thingcert-bench-quick-'));
afterAll(() => {
  rmSync(results, { recursive: true, force: true });
});

interface QuickResults {
  meta: { mode: string };
  sections: { id: string; rows: unknown[]; skipped: string[]; error?: string }[];
}

/** The harness (`--no-build`: the task graph built it), its exit code and what it printed. */
function quickBench(): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'run-bench.mjs'), '--quick', '--no-build', '--results-dir', results],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('pnpm bench --quick', () => {
  it(
    'runs every section and reports rows for each, none failed',
    { timeout: 600_000 },
    async () => {
      const run = await quickBench();

      expect(run.code, run.stderr).toBe(0);
      const written = JSON.parse(readFileSync(join(results, 'quick.json'), 'utf8')) as QuickResults;
      expect(written.meta.mode).toBe('quick');
      expect(written.sections.map((section) => section.id)).toEqual(SECTION_IDS);
      for (const section of written.sections) {
        expect(section.error, section.id).toBeUndefined();
        // The developer loop needs a clone and full test runs: skipped, saying so.
        if (section.id === 'dev-loop') expect(section.skipped).toHaveLength(1);
        else expect(section.rows.length, section.id).toBeGreaterThan(0);
      }
    },
  );
});
