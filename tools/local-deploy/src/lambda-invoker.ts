import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

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
 * Invokes a function once in a fresh Node.js process (a cold start every
 * time, like a new Lambda sandbox), with the function's environment on top of
 * `baseEnv`, killed when its `Timeout` passes. Every output line goes to `onLog`.
 */
export function invokeFunction(
  fn: LocalFunction,
  event: unknown,
  baseEnv: Readonly<Record<string, string>>,
  onLog: (line: string) => void,
  options: InvocationOptions = {},
): Promise<InvocationOutcome> {
  const requestId = randomUUID();
  const timeoutMs = fn.timeoutSeconds * 1000;
  const child = spawn(process.execPath, [runtimeEntry()], {
    env: {
      PATH: process.env.PATH ?? '',
      ...baseEnv,
      ...fn.environment,
      // Reserved: a function's own Environment cannot set them on Lambda.
      ...fn.credentials,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // fd 3: the handler's result (see lambda-runtime.ts).
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const resultChunks: Buffer[] = [];
  const resultPipe = child.stdio[3] as Readable | null;
  resultPipe?.on('data', (chunk: Buffer) => resultChunks.push(chunk));
  resultPipe?.on('error', () => undefined);
  const stop = (): void => {
    child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', onLog);
  }
  // A runtime that dies before reading its event must not crash the deployer.
  child.stdin.on('error', () => undefined);
  child.stdin.end(
    JSON.stringify({
      assetDir: fn.assetDir,
      handler: fn.handler,
      event,
      timeoutMs,
      functionName: fn.functionName,
      requestId,
    }),
  );
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      onLog(
        JSON.stringify({
          level: 'ERROR',
          message: `Task timed out after ${fn.timeoutSeconds} seconds`,
        }),
      );
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      onLog(
        JSON.stringify({
          level: 'ERROR',
          message: `could not start the function: ${error.message}`,
        }),
      );
      resolve({ requestId, exitCode: null, timedOut: false });
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      resolve({ requestId, exitCode, timedOut, ...parsedResult(exitCode, resultChunks) });
    });
  });
}

/** The handler's result, when the runtime ended well and wrote one. */
function parsedResult(exitCode: number | null, chunks: readonly Buffer[]): { result?: unknown } {
  if (exitCode !== 0 || chunks.length === 0) return {};
  try {
    return { result: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return {};
  }
}
