#!/usr/bin/env node
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLocal } from './run-local';

/** Most devices `--provisioning claim` runs: each is a Node.js process on this machine. */
const MAX_CLAIM_THINGS = 50;

const USAGE = `usage: pnpm start [-- options]

Deploys the synthesized apps/infra stack onto a local cloud and runs its devices.

  --once            devices send their messages once; then delete the stack and exit (0 = all came back)
  --keep            leave the stack running after the devices finished, until Ctrl-C;
                    prints export lines: the admin's and each role's credentials
  --no-iam          do not enforce IAM: the Lambda and the devices run as the admin over HTTP
                    (IAM is enforced by default, as on AWS)
  --things N        deploy a fleet of N things, thingcert-device-1..N (1..10); with
                    --provisioning claim, N devices of an Auto Scaling group (1..${MAX_CLAIM_THINGS})
  --provisioning M  seed (default: one certificate resource per device, made off the device) or
                    claim (fleet provisioning: each device makes its key and registers itself
                    through a provisioning template with a shared claim certificate); with --once,
                    exit 0 only when all N devices registered and got their messages back and the
                    teardown left no thing, certificate, thing group or template
  --rotate N        once the devices publish (10 msg/s), rotate every certificate N times (1..20),
                    each a stack Update with a new rotationToken; print update time, each device's
                    time offline, messages published/received/lost; with --once, exit 0 only when
                    nothing was lost and every device is on the certificate CloudFormation holds
  --context K=V     extra CDK context for the synth (repeatable)
  --log-file PATH   append every raw log line (deployer, Lambda, devices) to PATH
  --verbose         show every Lambda and local-cloud log line
  -h, --help        this text`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

// Node 20 is still supported here; the SDK's notice about future releases is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const args = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'));
let parsed;
try {
  parsed = parseArgs({
    args,
    options: {
      once: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'no-iam': { type: 'boolean', default: false },
      things: { type: 'string' },
      provisioning: { type: 'string' },
      rotate: { type: 'string' },
      context: { type: 'string', multiple: true, default: [] },
      'log-file': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const context: Record<string, unknown> = {};
for (const pair of values.context) {
  const at = pair.indexOf('=');
  if (at <= 0) fail(`--context expects KEY=VALUE, got "${pair}"`);
  context[pair.slice(0, at)] = pair.slice(at + 1);
}
const provisioning = values.provisioning ?? 'seed';
if (provisioning !== 'seed' && provisioning !== 'claim')
  fail(`--provisioning expects seed or claim, got "${provisioning}"`);
let expectedDevices: number | undefined;
if (values.things !== undefined) {
  const max = provisioning === 'claim' ? MAX_CLAIM_THINGS : 10;
  const count = Number(values.things);
  if (!/^\d+$/.test(values.things) || count < 1 || count > max)
    fail(`--things expects an integer from 1 to ${max}, got "${values.things}"`);
  expectedDevices = count;
  if (provisioning === 'claim') context.things = String(count);
  else
    context.thingNames = Array.from({ length: count }, (_, i) => `thingcert-device-${i + 1}`).join(
      ',',
    );
}
if (provisioning === 'claim') {
  // apps/infra selects the fleet (ProvisionedFleet) with -c provisioning=claim.
  context.provisioning = 'claim';
  if (values.rotate !== undefined)
    fail(
      '--rotate and --provisioning claim exclude each other (a fleet has no certificate resources to rotate)',
    );
}
if (values.once && values.keep) fail('--once and --keep exclude each other');
let rotate: number | undefined;
if (values.rotate !== undefined) {
  rotate = Number(values.rotate);
  if (!/^\d+$/.test(values.rotate) || rotate < 1 || rotate > 20)
    fail(`--rotate expects an integer from 1 to 20, got "${values.rotate}"`);
  if (values.keep) fail('--rotate and --keep exclude each other');
}

const workspaceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let stopping = false;
const untilStopped = new Promise<void>((resolveStop) => {
  // SIGHUP too: closing the terminal must tear down like Ctrl-C, not kill the
  // deployer outright and leave the detached device runners and their
  // directories (private keys) behind.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) {
        // A second signal: give up the teardown, but exit rather than die of
        // the signal, so the exit hooks still kill the devices (their own
        // process group: the terminal's Ctrl-C does not reach them) and remove
        // their directories (private keys) and the synthesized assembly.
        console.log(`\n${signal} again: exiting without deleting the stack`);
        process.exit(128 + constants.signals[signal]);
      }
      stopping = true;
      console.log(`\n${signal}: deleting the stack… (again to exit at once)`);
      resolveStop();
    });
  }
});

const exitCode = await runLocal({
  workspaceRoot,
  context,
  once: values.once,
  keep: values.keep,
  ...(rotate === undefined ? {} : { rotate }),
  ...(expectedDevices === undefined ? {} : { expectedDevices }),
  verbose: values.verbose,
  enforceIam: !values['no-iam'],
  ...(values['log-file'] ? { logFile: resolve(values['log-file']) } : {}),
  untilStopped,
  print: (line) => console.log(line),
});
process.exit(exitCode);
