// Child process of the claim benchmark: devices that put themselves online the
// way the device runner does (`openClaimedCredentials` in apps/device-runner),
// with @thingcert/device-client. The local cloud runs in the harness; what the
// devices need comes in BENCH_CLAIM (JSON).
//   node claim-worker.mjs fleet <first> <count>   <count> devices at once, after "go" on stdin
//   node claim-worker.mjs boot-claim <index>      one device by claim, from process start
//   node claim-worker.mjs boot-s3                 one device of the S3 flow (credential pointer)
// Each device: claim from S3 (in `fleet`, once per worker before the signal) → claim CONNECT → key + CSR → CreateCertificateFromCsr →
// RegisterThing → claim closed (and deleted) → CONNECT as the thing → one QoS 1 publish acked.
// Prints one JSON line per run with epoch-ms marks (all processes share the clock).
// BENCH_CLAIM_MAX_RETRY_DELAY_MS sets provisionByClaim's maxRetryDelayMs, for
// ad-hoc comparisons (fleetRun in claim.mjs); the bench keeps the default.
import { S3Client } from '@aws-sdk/client-s3';
// Device code run in a benchmark process, as in standalone/device-runner.mjs: a
// local measurement, not a dependency of a local tool on device code, so it is
// exempt from the runtime:local boundary that keeps device code out of the tools.
// eslint-disable-next-line @nx/enforce-module-boundaries -- see above
import {
  ClaimConnection,
  DeviceConnection,
  fetchPointedCredentials,
  provisionByClaim,
} from '@thingcert/device-client';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [mode, firstText, countText] = process.argv.slice(2);
const config = JSON.parse(process.env.BENCH_CLAIM ?? '{}');
const print = (value) =>
  new Promise((resolve) => process.stdout.write(`${JSON.stringify(value)}\n`, resolve));

function s3Client() {
  return new S3Client({
    endpoint: config.s3Endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Reads a credential pointer and what it names into `dir`, as the runner does at boot. */
async function fetchFromS3(bucket, pointerKey, dir) {
  const s3 = s3Client();
  try {
    return await fetchPointedCredentials({ s3, bucket, pointerKey, dir });
  } finally {
    s3.destroy();
  }
}

/** Connects as the thing and publishes one QoS 1 message; resolves at its PUBACK. */
async function firstMessage(thingName, files, marks) {
  const device = new DeviceConnection({
    thingName,
    endpoint: config.dataEndpoint,
    port: config.port,
    caPath: config.caPath,
    certPath: files.certPath,
    keyPath: files.keyPath,
    protocol: 'mqtt3',
  });
  try {
    await device.start();
    marks.connected = Date.now();
    await device.publish(`test/${thingName}`, JSON.stringify({ hello: thingName }));
    marks.acked = Date.now();
  } finally {
    await device.stop();
  }
}

/**
 * systemd's restart delay for a runner that exited non-zero (`RestartSec=15`
 * in the device host's drop-in, packages/constructs/src/device-host.ts).
 */
const RESTART_SEC = 15;
/** Runs of one device (the first and its restarts) before the harness calls it FAILED. */
const MAX_RUNS = 4;

/**
 * One device provisioning by claim, then its first message; never throws.
 * A run that fails for anything but a final rejection (a CONNECT that timed
 * out, say) is started again after {@link RESTART_SEC}, as systemd restarts
 * the runner: from scratch before a certificate was made, from the own
 * credentials once registered (the runner reads them at start).
 */
async function claimDevice(index, sharedClaim) {
  const thingName = `${config.prefix}${index}`;
  const dir = join(config.dir, thingName);
  const marks = { start: Date.now() };
  const retries = { CreateCertificateFromCsr: 0, RegisterThing: 0 };
  const restarts = [];
  let own;
  for (let run = 1; ; run++) {
    // A restart from scratch keeps only the first start.
    if (own === undefined)
      for (const key of Object.keys(marks)) if (key !== 'start') delete marks[key];
    try {
      own ??= await provisionOnce(thingName, dir, marks, retries, sharedClaim);
      await firstMessage(thingName, own, marks);
      return { thingName, ok: true, marks, retries, restarts };
    } catch (error) {
      const phase = failedPhase(marks, own);
      const reason = `${phase}: ${error?.name ?? 'Error'}: ${String(error?.message ?? error)
        .replaceAll(thingName, '<thing>')
        .slice(0, 160)}`;
      const final = error?.name === 'ClaimRejectedError' && error.statusCode !== 429;
      const halfway = marks.certificateCreated !== undefined && own === undefined;
      if (final || halfway || run >= MAX_RUNS) {
        return { thingName, ok: false, reason, marks, retries, restarts };
      }
      restarts.push(reason);
      await new Promise((resolve) => setTimeout(resolve, RESTART_SEC * 1000));
    }
  }
}

/**
 * Claim from S3 (unless `sharedClaim` was fetched already), claim connection,
 * CreateCertificateFromCsr + RegisterThing, claim closed and deleted.
 */
async function provisionOnce(thingName, dir, marks, retries, sharedClaim) {
  const claim =
    sharedClaim ?? (await fetchFromS3(config.bucket, config.pointerKey, join(dir, 'claim')));
  marks.claimFetched = Date.now();
  const session = await ClaimConnection.connect({
    endpoint: config.dataEndpoint,
    port: config.port,
    caPath: config.caPath,
    clientId: thingName,
    certPath: claim.certPath,
    keyPath: claim.keyPath,
  });
  marks.claimConnected = Date.now();
  let own;
  try {
    own = await provisionByClaim(session, {
      templateName: config.templateName,
      thingName,
      dir: join(dir, 'device'),
      ...(process.env.BENCH_CLAIM_MAX_RETRY_DELAY_MS
        ? { maxRetryDelayMs: Number(process.env.BENCH_CLAIM_MAX_RETRY_DELAY_MS) }
        : {}),
      onEvent: (event) => {
        if (event.type === 'certificate-created') marks.certificateCreated = Date.now();
        else retries[event.operation] += 1;
      },
    });
    marks.registered = Date.now();
  } finally {
    // Waits out AWS IoT's one CONNECT per second per client id before the
    // device connects again with the same id.
    await session.close();
  }
  if (sharedClaim === undefined) await rm(join(dir, 'claim'), { recursive: true, force: true });
  marks.claimClosed = Date.now();
  return own;
}

/** Where a run stopped, from the marks it reached. */
function failedPhase(marks, own) {
  if (own !== undefined) return 'connect as the thing';
  if (marks.certificateCreated !== undefined) return 'RegisterThing';
  if (marks.claimConnected !== undefined) return 'CreateCertificateFromCsr';
  if (marks.claimFetched !== undefined) return 'claim connect';
  return 'claim from S3';
}

/** The current flow: credentials through their pointer in S3, then the first message. */
async function s3Device() {
  const marks = { start: Date.now() };
  const files = await fetchFromS3(config.bucket, config.pointerKey, join(config.dir, 's3'));
  marks.fetched = Date.now();
  await firstMessage(config.thing, files, marks);
  return { thingName: config.thing, ok: true, marks };
}

if (mode === 'fleet') {
  const first = Number(firstText);
  const count = Number(countText);
  // The claim every device of this worker would read from S3 at boot, read
  // once before the signal: the fleet rows measure provisioning against the
  // service's rates, not this VM's CPU running N SDK clients at once (the
  // boot rows include the read).
  const claim = await fetchFromS3(
    config.bucket,
    config.pointerKey,
    join(config.dir, `claim-${first}`),
  );
  await print({ event: 'ready' });
  // All workers start their devices together, when the harness says so.
  await new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      if (line.trim() === 'go') {
        lines.close();
        resolve();
      }
    });
  });
  const devices = await Promise.all(
    Array.from({ length: count }, (_, i) => claimDevice(first + i, claim)),
  );
  await print({ event: 'done', devices, maxRssKiB: process.resourceUsage().maxRSS });
} else if (mode === 'boot-claim') {
  const device = await claimDevice(Number(firstText));
  await print({ event: device.ok ? 'acked' : 'failed', ...device });
  process.exitCode = device.ok ? 0 : 1;
} else if (mode === 'boot-s3') {
  const device = await s3Device();
  await print({ event: 'acked', ...device });
} else {
  process.stderr.write(
    'usage: claim-worker.mjs fleet <first> <count> | boot-claim <index> | boot-s3\n',
  );
  process.exitCode = 2;
}
// aws-crt's native handles may outlive the connections; the output is flushed.
process.exit();
