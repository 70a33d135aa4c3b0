#!/usr/bin/env node
// Composition root of the `local-cloud` command: parse, start, print, wait for Ctrl-C.
import { describeCloud, parseCliArgs, USAGE } from './cli-args';
import { startLocalCloud } from './local-cloud';

async function main(): Promise<number> {
  let command;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`local-cloud: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const cloud = await startLocalCloud(command.options);
  process.stdout.write(`${describeCloud(cloud).join('\n')}\n# Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await cloud.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `local-cloud failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (error instanceof Error && error.cause !== undefined)
      process.stderr.write(
        `  cause: ${error.cause instanceof Error ? error.cause.message : JSON.stringify(error.cause)}\n`,
      );
    process.exitCode = 1;
  },
);
