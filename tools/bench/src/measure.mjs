// Timing primitives: processes timed from outside (spawn → marker, spawn →
// exit, peak RSS through GNU time when it is installed) and repeated runs with
// a warm-up, summarized as median and spread.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { summarize } from './stats.mjs';

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME);

/**
 * Runs a command to completion (asynchronously: the local cloud shares this
 * event loop). `readyWhen(recent)` marks the moment that counts as "done" when
 * the process lingers after its work (e.g. the 5th message came back); it
 * sees the newest output (the last chunk and 4 KiB before it).
 * `keepChars` bounds the stdout kept (its tail), 200 000 by default.
 * @returns {Promise<{ wallMs: number, readyMs: number | undefined, code: number | null, stdout: string, stderr: string, maxRssKiB: number | undefined }>}
 */
export function timeProcess(command, args, options = {}) {
  const { env, cwd, readyWhen, timeoutMs = 180_000, input, keepChars = 200_000 } = options;
  const [file, argv] = hasGnuTime
    ? [GNU_TIME, ['-f', 'BENCH_MAXRSS_KIB=%M', command, ...args]]
    : [command, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let readyMs;
    let stdout = '';
    let stderr = '';
    const child = spawn(file, argv, {
      env: { ...process.env, ...env },
      cwd,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      // Keep only the tail of chatty outputs (the runner logs 2 lines per
      // message), trimmed in amortized O(1): this loop shares its thread with
      // the local broker, and copying the whole tail for every small chunk of
      // a 100k-message run slowed the broker the runner was measured against.
      stdout += chunk;
      if (stdout.length > 2 * keepChars) stdout = stdout.slice(-keepChars);
      if (readyMs === undefined && readyWhen?.(stdout.slice(-(chunk.length + 4096)))) {
        readyMs = performance.now() - started;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      stdout = stdout.slice(-keepChars);
      const rss = /BENCH_MAXRSS_KIB=(\d+)/.exec(stderr);
      resolve({
        wallMs: performance.now() - started,
        readyMs,
        code,
        stdout,
        stderr: stderr.replace(/BENCH_MAXRSS_KIB=\d+\n?/, ''),
        maxRssKiB: rss === null ? undefined : Number(rss[1]),
      });
    });
  });
}

/** Like {@link timeProcess} but rejects unless the exit code is 0. */
export async function timeProcessOk(command, args, options) {
  const result = await timeProcess(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.slice(0, 3).join(' ')} exited ${result.code}: ${result.stderr.slice(-600)}${result.stdout.slice(-300)}`,
    );
  }
  return result;
}

/**
 * `warmup` discarded runs, then `runs` measured ones. `once(i)` returns an
 * object of numeric metrics; each metric is summarized separately.
 * @returns {Promise<Record<string, ReturnType<typeof summarize>>>}
 */
export async function repeat(once, { warmup = 1, runs = 5 } = {}) {
  for (let i = 0; i < warmup; i++) await once(-1 - i);
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await once(i));
  const metrics = {};
  for (const key of Object.keys(samples[0] ?? {})) {
    const values = samples.map((s) => s[key]).filter((v) => typeof v === 'number');
    if (values.length > 0) metrics[key] = summarize(values);
  }
  return metrics;
}
