import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  END_OF_INVOCATION,
  type FunctionSetup,
  type InvocationReport,
  type InvocationRequest,
} from './lambda-runtime-protocol';

/** A function registered by the deployer from an `AWS::Lambda::Function`. */
export interface LocalFunction {
  readonly functionName: string;
  readonly arn: string;
  readonly assetDir: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The credentials Lambda gives the function: a session of its execution role
   * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), or
   * nothing when IAM is not enforced (the admin's keys are in the base environment).
   */
  readonly credentials: Readonly<Record<string, string>>;
}

/** How one invocation ended, from the runtime's point of view. */
export interface InvocationOutcome {
  readonly requestId: string;
  /**
   * 0 when the handler returned, 1 when it threw (or its module failed to
   * load), the runtime's own exit code when its process died mid-invocation,
   * `null` when it was killed (timeout, abort).
   */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /**
   * What the handler returned, parsed from its JSON (`null` for nothing);
   * `undefined` when it did not return (it threw, timed out or was stopped).
   */
  readonly result?: unknown;
}

/** Options of one invocation. */
export interface InvocationOptions {
  /** Stops the function (SIGKILL) when it aborts: the caller no longer waits for it. */
  readonly signal?: AbortSignal;
}

/**
 * The built runtime entry: beside this module in `dist`, or in `dist` when
 * this module runs from source (tests).
 */
function runtimeEntry(): string {
  for (const candidate of ['./lambda-runtime.js', '../dist/lambda-runtime.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(
    'lambda-runtime.js not found: build tools/local-deploy (pnpm nx build local-deploy)',
  );
}

/**
 * How long a frozen environment is kept for its next invocation. Lambda keeps
 * idle environments for minutes and may drop one at any time; a short wait
 * still serves the invocations of one stack operation and its neighbours.
 */
const IDLE_ENVIRONMENT_MS = 60_000;

/**
 * A runtime process of one function configuration, reused for its invocations
 * one at a time (a warm start), frozen with SIGSTOP in between. Its process is
 * in a process group of its own: if the deployer dies without killing it, the
 * group is orphaned with a stopped member, and the kernel sends it SIGHUP then
 * SIGCONT, which ends it, instead of leaving it stopped forever.
 */
class ExecutionEnvironment {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly streams: readonly Socket[];
  private onLog: (line: string) => void = () => undefined;
  /** The running invocation's listener for its report and its two fences. */
  private pending?: (event: InvocationReport | { fence: string }) => void;
  private exited?: (exitCode: number | null) => void;
  private idleTimer?: NodeJS.Timeout;
  private frozen = false;
  /** Ended or being ended: never invoked again. */
  gone = false;
  readonly functionArn: string;
  /** The function's configuration and environment: what makes environments interchangeable. */
  readonly configuration: string;

  constructor(fn: LocalFunction, configuration: string, env: Record<string, string>) {
    this.functionArn = fn.arn;
    this.configuration = configuration;
    const runtime = [process.execPath, runtimeEntry()];
    const [command, args] = existsSync(PERL)
      ? [PERL, ['-e', 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die "exec: $!\\n"', ...runtime]]
      : [process.execPath, runtime.slice(1)];
    this.child = spawn(command, args, {
      env,
      // fd 3: one line per invocation, how it ended (see lambda-runtime.ts).
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    const results = this.child.stdio[3] as Readable;
    // Pipes to a child are sockets: they can stop holding the event loop open.
    this.streams = [this.child.stdin, this.child.stdout, this.child.stderr, results].map(
      (stream) => stream as unknown as Socket,
    );
    results.on('error', () => undefined);
    createInterface({ input: results }).on('line', (line) => {
      this.pending?.(JSON.parse(line) as InvocationReport);
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (line.startsWith(END_OF_INVOCATION))
          this.pending?.({ fence: line.slice(END_OF_INVOCATION.length) });
        else this.onLog(line);
      });
    }
    // A runtime that dies before reading its input must not crash the deployer.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) => {
      this.onLog(
        JSON.stringify({
          level: 'ERROR',
          message: `could not start the function: ${error.message}`,
        }),
      );
      // A process that never started emits no 'close'.
      if (this.child.pid === undefined) {
        this.gone = true;
        forget(this);
        this.exited?.(null);
      }
    });
    this.child.on('close', (exitCode) => {
      this.gone = true;
      clearTimeout(this.idleTimer);
      forget(this);
      this.exited?.(exitCode);
    });
    const setup: FunctionSetup = {
      assetDir: fn.assetDir,
      handler: fn.handler,
      functionName: fn.functionName,
    };
    this.child.stdin.write(`${JSON.stringify(setup)}\n`);
  }

  /** Runs one invocation; the environment is frozen again, or gone, when it resolves. */
  invoke(
    event: unknown,
    timeoutMs: number,
    onLog: (line: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<InvocationOutcome> {
    const requestId = randomUUID();
    this.onLog = onLog;
    this.thaw();
    return new Promise((resolve) => {
      const finish = (outcome: Omit<InvocationOutcome, 'requestId'>): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
        this.pending = undefined;
        this.exited = undefined;
        resolve({ requestId, ...outcome });
      };
      const stop = (): void => this.end();
      const timer = setTimeout(() => {
        onLog(
          JSON.stringify({
            level: 'ERROR',
            message: `Task timed out after ${timeoutMs / 1000} seconds`,
          }),
        );
        // Lambda resets the environment of an invocation that timed out.
        this.end();
        finish({ exitCode: null, timedOut: true });
      }, timeoutMs);
      signal?.addEventListener('abort', stop, { once: true });
      // The outcome counts once its report and both fences are in: by then
      // every line the invocation printed has gone to `onLog`.
      let report: InvocationReport | undefined;
      let fences = 0;
      this.pending = (received) => {
        if ('fence' in received) fences += received.fence === requestId ? 1 : 0;
        else if (received.requestId === requestId) report = received;
        if (!report || fences < 2) return;
        finish(
          report.ok
            ? { exitCode: 0, timedOut: false, result: report.result }
            : { exitCode: 1, timedOut: false },
        );
      };
      this.exited = (exitCode) => finish({ exitCode, timedOut: false });
      const request: InvocationRequest = { requestId, event, timeoutMs };
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Between invocations: frozen, not keeping the deployer alive, dropped after a while. */
  freeze(): void {
    if (this.gone) return;
    this.frozen = this.child.kill('SIGSTOP');
    for (const stream of this.streams) stream.unref();
    this.child.unref();
    this.idleTimer = setTimeout(() => this.end(), IDLE_ENVIRONMENT_MS);
    this.idleTimer.unref();
  }

  private thaw(): void {
    clearTimeout(this.idleTimer);
    this.child.ref();
    for (const stream of this.streams) stream.ref();
    if (this.frozen) this.child.kill('SIGCONT');
    this.frozen = false;
  }

  /** Kills the process (SIGKILL ends a stopped one too). */
  end(): void {
    this.gone = true;
    clearTimeout(this.idleTimer);
    forget(this);
    this.child.kill('SIGKILL');
  }
}

/**
 * Sets a runtime process in a process group of its own (see
 * {@link ExecutionEnvironment}); perl is part of every Debian system. Without
 * it the process shares the deployer's group: the exit handler below still
 * ends it, but a deployer killed outright may leave it stopped.
 */
const PERL = '/usr/bin/perl';

/** Frozen environments waiting for an invocation, by function configuration. */
const idle = new Map<string, ExecutionEnvironment[]>();
/** Every environment of this process, busy or frozen. */
const environments = new Set<ExecutionEnvironment>();

/** A frozen environment of `configuration`, out of the idle pool; `undefined` when none waits. */
function takeIdle(configuration: string): ExecutionEnvironment | undefined {
  const environment = idle.get(configuration)?.at(-1);
  if (environment) removeIdle(environment);
  return environment;
}

/** Freezes an environment after its invocation and puts it in the idle pool. */
function park(environment: ExecutionEnvironment): void {
  environment.freeze();
  const waiting = idle.get(environment.configuration) ?? [];
  waiting.push(environment);
  idle.set(environment.configuration, waiting);
}

function removeIdle(environment: ExecutionEnvironment): void {
  const waiting = idle.get(environment.configuration) ?? [];
  const index = waiting.indexOf(environment);
  if (index >= 0) waiting.splice(index, 1);
  if (waiting.length === 0) idle.delete(environment.configuration);
}

/** Drops an environment that ended (or is ending) from both sets. */
function forget(environment: ExecutionEnvironment): void {
  environments.delete(environment);
  removeIdle(environment);
}

// A deployer that exits (a finished run, a failed test) takes its environments with it.
process.once('exit', () => {
  for (const environment of environments) environment.end();
});

/**
 * Ends the environments of a function: its configuration changed or it was
 * deleted, or its stack's life is over. One running an invocation ends when
 * that invocation does.
 */
export function retireFunctionEnvironments(functionArn: string): void {
  for (const environment of [...environments]) {
    if (environment.functionArn !== functionArn) continue;
    environment.gone = true;
    if (idle.get(environment.configuration)?.includes(environment)) environment.end();
  }
}

/**
 * Invokes a function in one of its execution environments: a frozen one of
 * the same configuration when there is one (a warm start, as Lambda reuses
 * environments), else a new Node.js process (a cold start: INIT imports the
 * handler's module). The function's environment goes on top of `baseEnv`; the
 * invocation is stopped when its `Timeout` passes. Concurrent invocations run
 * in separate environments. Every output line goes to `onLog`.
 */
export async function invokeFunction(
  fn: LocalFunction,
  event: unknown,
  baseEnv: Readonly<Record<string, string>>,
  onLog: (line: string) => void,
  options: InvocationOptions = {},
): Promise<InvocationOutcome> {
  const env = {
    PATH: process.env.PATH ?? '',
    ...baseEnv,
    ...fn.environment,
    // Reserved: a function's own Environment cannot set them on Lambda.
    ...fn.credentials,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const configuration = JSON.stringify([fn.arn, fn.assetDir, fn.handler, fn.timeoutSeconds, env]);
  const environment = takeIdle(configuration) ?? new ExecutionEnvironment(fn, configuration, env);
  environments.add(environment);
  if (options.signal?.aborted) environment.end();
  const outcome = await environment.invoke(event, fn.timeoutSeconds * 1000, onLog, options.signal);
  if (environment.gone) environment.end();
  else park(environment);
  return outcome;
}
