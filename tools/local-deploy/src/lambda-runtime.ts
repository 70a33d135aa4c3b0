// Child-process entry that plays the Lambda runtime of one execution
// environment: the INIT phase imports the function's asset once, then each
// line on stdin is one invocation — a context whose clock counts down from the
// function's Timeout, the handler called once, and one line on file
// descriptor 3 saying how it ended (what it returned, as JSON: the response
// of a synchronous invocation). Between invocations the parent freezes the
// process (SIGSTOP), as Lambda freezes an idle environment; it kills it when
// the Timeout passes, as Lambda resets the environment then. A handler that
// throws fails its invocation and keeps the environment, as on Lambda; an
// uncaught error outside the handler ends the process, and the environment.
import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import {
  endOfInvocationLine,
  RESULT_FD,
  type FunctionSetup,
  type InvocationReport,
  type InvocationRequest,
} from './lambda-runtime-protocol';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** INIT: imports the handler's module from the asset, as Lambda does once per environment. */
async function loadHandler(setup: FunctionSetup): Promise<Handler> {
  const dot = setup.handler.lastIndexOf('.');
  const moduleName = setup.handler.slice(0, dot);
  const exportName = setup.handler.slice(dot + 1);
  const file = ['.mjs', '.js', '.cjs']
    .map((extension) => join(setup.assetDir, moduleName + extension))
    .find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`handler module ${moduleName} not found in the function's asset`);
  const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = loaded[exportName];
  if (typeof handler !== 'function')
    throw new Error(`${setup.handler} is not an exported function`);
  return handler as Handler;
}

function logFailure(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(
    JSON.stringify({ level: 'ERROR', message: 'Invocation failed', error: message.split('\n')[0] }),
  );
}

/**
 * Reports how an invocation ended, after the fences that tell the parent
 * every line printed before this has been sent (see `END_OF_INVOCATION`).
 */
function report(requestId: string, ok: boolean, result?: unknown): void {
  const fence = `${endOfInvocationLine(requestId)}\n`;
  process.stdout.write(fence);
  process.stderr.write(fence);
  // Lambda serializes the handler's return value as JSON; `undefined` is `null`.
  const outcome: InvocationReport = ok
    ? { requestId, ok, result: result ?? null }
    : { requestId, ok };
  writeSync(RESULT_FD, `${JSON.stringify(outcome)}\n`);
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) return;
  const setup = JSON.parse(first.value) as FunctionSetup;
  // An INIT failure fails the first invocation and ends the environment.
  const handler = loadHandler(setup);
  handler.catch(() => undefined);
  for (let line = await lines.next(); !line.done; line = await lines.next()) {
    const invocation = JSON.parse(line.value) as InvocationRequest;
    const deadline = Date.now() + invocation.timeoutMs;
    const context = {
      functionName: setup.functionName,
      awsRequestId: invocation.requestId,
      logGroupName: `/aws/lambda/${setup.functionName}`,
      logStreamName: `local/${invocation.requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let loaded: Handler;
    try {
      loaded = await handler;
    } catch (error) {
      logFailure(error);
      report(invocation.requestId, false);
      process.exit(1);
    }
    try {
      report(invocation.requestId, true, await loaded(invocation.event, context));
    } catch (error) {
      logFailure(error);
      report(invocation.requestId, false);
    }
  }
}

// stdin closed: the parent let the environment go.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    logFailure(error);
    process.exit(1);
  },
);
