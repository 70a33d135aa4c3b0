// Child-process entry that plays the Lambda runtime for one invocation: imports
// the function's asset, builds a context whose clock counts down from the
// function's Timeout, calls the handler once, writes what it returned (JSON)
// to file descriptor 3 — the response of a synchronous invocation — and exits.
// The parent kills it when the Timeout passes, as Lambda does.
import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The pipe the parent reads the handler's result from (see `invokeFunction`). */
const RESULT_FD = 3;

interface Invocation {
  assetDir: string;
  handler: string;
  event: unknown;
  timeoutMs: number;
  functionName: string;
  requestId: string;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const invocation = JSON.parse(await readStdin()) as Invocation;
  const deadline = Date.now() + invocation.timeoutMs;
  const dot = invocation.handler.lastIndexOf('.');
  const moduleName = invocation.handler.slice(0, dot);
  const exportName = invocation.handler.slice(dot + 1);
  const file = ['.mjs', '.js', '.cjs']
    .map((extension) => join(invocation.assetDir, moduleName + extension))
    .find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`handler module ${moduleName} not found in the function's asset`);
  const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = loaded[exportName] as Handler | undefined;
  if (typeof handler !== 'function')
    throw new Error(`${invocation.handler} is not an exported function`);
  const context = {
    functionName: invocation.functionName,
    awsRequestId: invocation.requestId,
    logGroupName: `/aws/lambda/${invocation.functionName}`,
    logStreamName: `local/${invocation.requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const result = await handler(invocation.event, context);
  // Lambda serializes the handler's return value as JSON; `undefined` is `null`.
  writeSync(RESULT_FD, JSON.stringify(result ?? null));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(
      JSON.stringify({
        level: 'ERROR',
        message: 'Invocation failed',
        error: message.split('\n')[0],
      }),
    );
    process.exit(1);
  },
);
