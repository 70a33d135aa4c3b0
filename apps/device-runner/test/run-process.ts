import { spawn, type ChildProcess } from 'node:child_process';

/** Outcome of one CLI process. */
export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node <script> <args>` and collects its output. `onStdout` sees the
 * output so far after each chunk (to send a signal at the right moment).
 */
export function runProcess(
  script: string,
  args: readonly string[],
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    onStdout?: (soFar: string, child: ChildProcess) => void;
  } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(stdout, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Parses `--json` output: one object per line. */
export function jsonEvents(stdout: string): Array<Record<string, unknown> & { event: string }> {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { event: string });
}
