import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { inlineFunction } from '../test/inline-function';
import { invokeFunction, retireFunctionEnvironments, type LocalFunction } from './lambda-invoker';

// Functions as inline code in a temp directory, run by the built Lambda runtime (no network).
const dir = mkdtempSync(join(tmpdir(), 'thingcert-lambda-invoker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function localFunction(code: string, timeoutSeconds = 5): LocalFunction {
  return inlineFunction(dir, code, { timeoutSeconds });
}

/** A handler reporting its process and how many times this environment ran it. */
const COUNTING = `let invocations = 0;
exports.handler = async (event) => {
  invocations += 1;
  if (event.fail === 'throw') throw new Error('handled failure');
  if (event.fail === 'crash') process.exit(3);
  return { pid: process.pid, invocations, answer: event.answer };
};`;

async function invoke(fn: LocalFunction, event: unknown = {}, baseEnv = {}) {
  const lines: string[] = [];
  const outcome = await invokeFunction(fn, event, baseEnv, (line) => lines.push(line));
  return { ...outcome, lines, result: outcome.result as { pid: number; invocations: number } };
}

/** The process's state letter in /proc (`T` stopped, `S` sleeping…), or `gone`. */
function processState(pid: number): string {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return 'gone';
  try {
    return /\) (\S)/.exec(readFileSync(stat, 'utf8'))?.[1] ?? 'gone';
  } catch {
    return 'gone';
  }
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const ended = (pid: number) => ['gone', 'Z', 'X'].includes(processState(pid));

describe('Function: invokeFunction (execution environments)', () => {
  it('reuses a frozen environment for the next invocation, as Lambda reuses warm ones', async () => {
    const fn = localFunction(COUNTING);
    const first = await invoke(fn, { answer: 1 });
    expect(first).toMatchObject({ exitCode: 0, timedOut: false });
    expect(first.result).toMatchObject({ invocations: 1, answer: 1 });
    // Between invocations the process is stopped (SIGSTOP lands within moments): no
    // background work runs.
    await until(() => processState(first.result.pid) === 'T', 'the environment to be frozen');

    const second = await invoke(fn, { answer: 2 });
    expect(second.result).toEqual({ pid: first.result.pid, invocations: 2, answer: 2 });
    expect(second.requestId).not.toBe(first.requestId);
    retireFunctionEnvironments(fn.arn);
    await until(() => ended(first.result.pid), 'the retired environment to end');
  });

  it('runs concurrent invocations in separate environments', async () => {
    const fn = localFunction(
      `exports.handler = async () => { await new Promise((r) => setTimeout(r, 200)); return { pid: process.pid }; };`,
    );
    const [a, b] = await Promise.all([invoke(fn), invoke(fn)]);
    expect(a.result.pid).not.toBe(b.result.pid);
    retireFunctionEnvironments(fn.arn);
  });

  it('keeps the environment after a handler error, and starts a new one after a crash or a timeout', async () => {
    const fn = localFunction(COUNTING, 1);
    const warm = await invoke(fn);
    const handled = await invoke(fn, { fail: 'throw' });
    expect(handled).toMatchObject({ exitCode: 1, timedOut: false, result: undefined });
    expect(handled.lines.join('\n')).toContain('handled failure');
    expect((await invoke(fn)).result).toMatchObject({ pid: warm.result.pid, invocations: 3 });

    // The runtime process dies mid-invocation: Lambda starts a new environment.
    const crashed = await invoke(fn, { fail: 'crash' });
    expect(crashed).toMatchObject({ exitCode: 3, timedOut: false, result: undefined });
    await until(() => ended(warm.result.pid), 'the crashed runtime to end');
    const afterCrash = await invoke(fn);
    expect(afterCrash.result).toMatchObject({ invocations: 1 });
    expect(afterCrash.result.pid).not.toBe(warm.result.pid);

    const hanging = localFunction(
      'exports.handler = () => new Promise(() => setInterval(() => {}, 1000));',
      1,
    );
    const timedOut = await invoke(hanging);
    expect(timedOut).toMatchObject({ exitCode: null, timedOut: true, result: undefined });
    expect(timedOut.lines.join('\n')).toContain('Task timed out after 1 seconds');
    retireFunctionEnvironments(fn.arn);
  });

  it('gives a changed configuration new environments, and retiring a function ends its frozen ones', async () => {
    const fn = localFunction(COUNTING);
    const before = await invoke(fn, {}, { SETTING: 'a' });
    const changed = await invoke(fn, {}, { SETTING: 'b' });
    expect(changed.result.pid).not.toBe(before.result.pid);
    await until(() => processState(before.result.pid) === 'T', 'the first one to be frozen');

    retireFunctionEnvironments(fn.arn);
    await until(
      () => ended(before.result.pid) && ended(changed.result.pid),
      'both environments to end',
    );
    expect((await invoke(fn, {}, { SETTING: 'a' })).result).toMatchObject({ invocations: 1 });
    retireFunctionEnvironments(fn.arn);
  });

  it('fails the invocation when the handler module does not load, and drops that environment', async () => {
    const fn = localFunction("throw new Error('init failed');");
    const outcome = await invoke(fn);
    expect(outcome).toMatchObject({ exitCode: 1, timedOut: false, result: undefined });
    expect(outcome.lines.join('\n')).toContain('init failed');
  });

  it('leaves no frozen runtime behind when the deployer is killed', async () => {
    const fn = localFunction(COUNTING);
    // A deployer process that invokes once and waits, then is killed with SIGKILL
    // (no exit handler runs): its frozen environment must still end.
    // The built package (the test target depends on the build), as a deployer loads it.
    const built = join(import.meta.dirname, '..', 'dist', 'index.js');
    const script = `
      const { invokeFunction } = await import(${JSON.stringify(built)});
      const outcome = await invokeFunction(${JSON.stringify(fn)}, {}, {}, () => {});
      console.log(JSON.stringify(outcome.result));
      setInterval(() => {}, 1000);`;
    const deployer = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: deployer.stdout }).once('line', resolve);
      deployer.once('close', (code) => reject(new Error(`the deployer exited ${code}`)));
    });
    const { pid } = JSON.parse(line) as { pid: number };
    await until(() => processState(pid) === 'T', 'the environment to be frozen');
    deployer.kill('SIGKILL');
    await until(() => ended(pid), 'the orphaned runtime to end');
  });
});
