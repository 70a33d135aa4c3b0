// 7. Fleet provisioning by claim (issue 14): N devices put themselves online at
// once through the local cloud's device provisioning MQTT API at its default
// rates, which are AWS's published ones (RegisterThing 10/s per account): wall
// time against the N/rate floor, failed registrations, requests per device
// (counted by the cloud), and one device's boot → first message beside the
// current S3 flow. The devices are @thingcert/device-client's ClaimConnection +
// provisionByClaim + DeviceConnection, in worker processes (claim-worker.mjs).
import { FLEET_PROVISIONING_RATES, startLocalCloud } from '@thingcert/local-cloud';
import { provisionClaimFleet, provisionPointedDevice } from '@thingcert/test-support';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { countClaimRequests, registrationFloorMs, splitFleet } from './claim-requests.mjs';
import { repeat, timeProcessOk } from './measure.mjs';
import { scaling } from './provisioning.mjs';
import { row, section } from './rows.mjs';
import { summarize } from './stats.mjs';

/** RegisterThing per second per account: the local cloud's default, AWS IoT Core's published quota. */
const RATE = FLEET_PROVISIONING_RATES.RegisterThing;
/** Devices per worker process at most (aws-crt connections are native and not free). */
const DEVICES_PER_WORKER = 250;

const workerPath = (ctx) => join(ctx.here, 'claim-worker.mjs');

/**
 * A fresh local cloud with a claim fleet (test-support) in it; at its default
 * rates (AWS's) unless `cloudOptions` says otherwise (ad-hoc runs only).
 */
async function withClaimFleet(ctx, name, work, cloudOptions = {}) {
  const logLines = [];
  const cloud = await startLocalCloud({ ...cloudOptions, log: (line) => logLines.push(line) });
  try {
    const fleet = await provisionClaimFleet(cloud);
    const dir = join(ctx.tmp, name);
    mkdirSync(dir, { recursive: true });
    const config = {
      dataEndpoint: cloud.dataEndpoint,
      port: cloud.mqtt.port,
      caPath: cloud.mqtt.caPath,
      region: cloud.region,
      s3Endpoint: cloud.s3Endpoint,
      bucket: fleet.claim.bucket,
      pointerKey: fleet.claim.pointerKey,
      templateName: fleet.templateName,
      prefix: fleet.thingNamePrefix,
      dir,
    };
    try {
      return await work({ cloud, fleet, config, logLines });
    } finally {
      fleet.iot.destroy();
      fleet.s3.destroy();
    }
  } finally {
    await cloud.stop();
  }
}

/** Starts a fleet worker; resolves with its handle once it printed `ready`. */
function startWorker(ctx, config, { first, count }) {
  const child = spawn(process.execPath, [workerPath(ctx), 'fleet', String(first), String(count)], {
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      BENCH_CLAIM: JSON.stringify(config),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  const done = new Promise((resolve, reject) => {
    lines.on('line', (text) => {
      if (text.includes('"event":"ready"')) onReady();
      // Stamped on arrival: the harness measures wall time from outside.
      if (text.includes('"event":"done"')) resolve({ ...JSON.parse(text), at: Date.now() });
    });
    child.on('error', reject);
    child.on('close', (code) =>
      reject(new Error(`claim worker exited ${code} without its result: ${stderr.slice(-600)}`)),
    );
  });
  done.catch(() => onReady());
  return ready.then(() => ({ child, done }));
}

/**
 * N devices at once in worker processes; all start on one "go". Exported for
 * ad-hoc runs (one size; `cloudOptions` such as a scaled-down `throttle`).
 */
export async function fleetRun(ctx, n, cloudOptions = {}) {
  return withClaimFleet(
    ctx,
    `fleet-${n}`,
    async ({ config, logLines }) => {
      const ranges = splitFleet(n, Math.ceil(n / DEVICES_PER_WORKER));
      const workers = await Promise.all(ranges.map((range) => startWorker(ctx, config, range)));
      const goAt = Date.now();
      for (const { child } of workers) child.stdin.write('go\n');
      try {
        const results = await Promise.all(workers.map((w) => w.done));
        const devices = results.flatMap((r) => r.devices);
        const ok = devices.filter((d) => d.ok);
        const latest = (mark) => Math.max(...ok.map((d) => d.marks[mark] ?? Number.NaN));
        return {
          n,
          workers: workers.length,
          wallMs: Math.max(...results.map((r) => r.at)) - goAt,
          registeredMs: ok.length === 0 ? undefined : latest('registered') - goAt,
          bootMs: ok.map((d) => d.marks.acked - d.marks.start),
          claimConnectMs: devices
            .filter((d) => d.restarts.length === 0 && d.marks.claimConnected !== undefined)
            .map((d) => d.marks.claimConnected - d.marks.start),
          failed: devices.filter((d) => !d.ok),
          devices,
          restarts: devices.flatMap((d) => d.restarts),
          retries: devices.reduce(
            (sum, d) => sum + d.retries.CreateCertificateFromCsr + d.retries.RegisterThing,
            0,
          ),
          maxRssMiB: Math.max(...results.map((r) => r.maxRssKiB)) / 1024,
          requests: countClaimRequests(logLines, config.prefix, n),
        };
      } finally {
        for (const { child } of workers) child.kill('SIGKILL');
      }
    },
    cloudOptions,
  );
}

/** Rows and notes of one fleet size. */
function reportFleet(result, f) {
  const floor = row(`${f.n} devices: floor N/rate`, registrationFloorMs(f.n, RATE), 'ms');
  const { requests } = f;
  const throttledTotal = requests.throttled.reduce((a, b) => a + b, 0);
  result.rows.push(
    row(`${f.n} devices: wall time, go → all registered`, f.registeredMs, 'ms', floor),
    row(`${f.n} devices: wall time, go → every first message acked`, f.wallMs, 'ms', floor),
    floor,
    row(
      `${f.n} devices: FAILED registrations`,
      f.failed.filter((d) => d.marks.registered === undefined).length,
      'devices',
    ),
    row(`${f.n} devices: runner restarts (systemd, 15 s later)`, f.restarts.length, 'restarts'),
    row(
      `${f.n} devices: start → claim CONNECT accepted, per device (first run)`,
      f.claimConnectMs.length === 0 ? undefined : summarize(f.claimConnectMs),
      'ms',
    ),
    row(
      `${f.n} devices: provisioning publishes per device (${throttledTotal} of all throttled, retried)`,
      summarize(requests.publishes),
      'msgs',
    ),
    row(`${f.n} devices: CONNECTs per device (claim + own)`, summarize(requests.connects), 'calls'),
    row(`${f.n} devices: per device, start → first message acked`, summarize(f.bootMs), 'ms'),
    row(`${f.n} devices: peak RSS of a worker (${f.workers} workers)`, f.maxRssMiB, 'MiB'),
  );
  // A device registered whose first message never went out failed too: its reason says so.
  for (const [reason, times] of tally(f.failed.map((d) => d.reason))) {
    result.notes.push(`${f.n} devices: ${times} FAILED in ${reason}.`);
  }
  for (const [reason, times] of tally(f.restarts)) {
    result.notes.push(`${f.n} devices: ${times} runs restarted after ${reason}.`);
  }
  if (f.retries !== throttledTotal) {
    result.notes.push(
      `${f.n} devices: the devices reported ${f.retries} retries, the cloud logged ${throttledTotal} throttled requests.`,
    );
  }
}

/** How often each text occurs, most frequent first. */
function tally(texts) {
  const counts = new Map();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** One device per process, from spawn to its first PUBACK: claim flow vs S3 flow. */
async function bootComparison(ctx, result) {
  await withClaimFleet(ctx, 'boot', async ({ cloud, config }) => {
    const pointed = await provisionPointedDevice(cloud, { thing: `${config.prefix}s3` });
    const s3Config = { ...config, bucket: pointed.bucket, pointerKey: pointed.pointerKey };
    let index = 0;
    // The S3 flow boots the same thing every run, and AWS IoT (the local cloud too) refuses a
    // second CONNECT of a client id within a second: a restart is never that quick on a device.
    let lastS3BootEnd = 0;
    const boot = (mode, env) => async () => {
      if (mode === 'boot-s3') {
        const wait = lastS3BootEnd + 1_100 - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const r = await timeProcessOk(
        process.execPath,
        [workerPath(ctx), mode, ...(mode === 'boot-claim' ? [`boot-${++index}`] : [])],
        {
          env: {
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            BENCH_CLAIM: JSON.stringify(env),
          },
          readyWhen: (out) => out.includes('"event":"acked"'),
          timeoutMs: 60_000,
        },
      );
      if (mode === 'boot-s3') lastS3BootEnd = Date.now();
      const { marks } = JSON.parse(r.stdout.trim().split('\n').pop());
      const phases = phaseDurations(marks);
      return { spawnMs: r.readyMs ?? r.wallMs, inProcessMs: marks.acked - marks.start, ...phases };
    };
    try {
      const s3 = await repeat(
        boot('boot-s3', { ...s3Config, thing: `${config.prefix}s3` }),
        ctx.repeat,
      );
      const claim = await repeat(boot('boot-claim', config), ctx.repeat);
      const s3Spawn = row('S3 flow: spawn → first message acked', s3.spawnMs, 'ms');
      const s3Device = row('S3 flow: device start → first message acked', s3.inProcessMs, 'ms');
      result.rows.push(
        row('claim flow: spawn → first message acked', claim.spawnMs, 'ms', s3Spawn),
        s3Spawn,
        row('claim flow: device start → first message acked', claim.inProcessMs, 'ms', s3Device),
        s3Device,
      );
      const medians = (metrics) =>
        Object.entries(metrics)
          .filter(([key]) => key.startsWith('phase:'))
          .map(([key, s]) => `${key.slice(6)} ${Math.round(s.median)} ms`)
          .join(', ');
      result.notes.push(
        `One device alone, medians of its phases. Claim: ${medians(claim)}. S3 flow: ${medians(s3)}.`,
      );
    } finally {
      pointed.iot.destroy();
      pointed.s3.destroy();
    }
  });
}

/** Durations between consecutive marks of a device, as `phase:<to>` metrics. */
function phaseDurations(marks) {
  const order = Object.entries(marks).sort((a, b) => a[1] - b[1]);
  const phases = {};
  for (let i = 1; i < order.length; i++)
    phases[`phase:${order[i][0]}`] = order[i][1] - order[i - 1][1];
  return phases;
}

/** The `claim` section of `pnpm bench` (fleet sizes 10, 100, 1000; 10 with `--quick`). */
export async function claim(ctx) {
  const result = section(
    'claim',
    `Fleet provisioning by claim: devices at once, RegisterThing at ${RATE}/s (AWS's published rate)`,
  );
  const sizes = ctx.quick ? [10] : [10, 100, 1000];
  const fleets = [];
  for (const n of sizes) {
    ctx.log(`  ${n} devices provisioning by claim at once`);
    const f = await fleetRun(ctx, n);
    fleets.push(f);
    reportFleet(result, f);
  }
  ctx.log('  one device: boot → first message, claim vs S3 flow');
  await bootComparison(ctx, result);
  result.notes.push(
    `The local cloud at its defaults: RegisterThing and CreateCertificateFromCsr ${RATE}/s each, token buckets with a burst of ${RATE} (so a fleet no larger than the burst beats N/rate), one CONNECT per second per client id. Devices: device-client's ClaimConnection and provisionByClaim (aws-iot-device-sdk-v2 iotidentity, MQTT 3.1.1) and DeviceConnection, up to ${DEVICES_PER_WORKER} per worker process, all started on one signal; wall time is measured by the harness from that signal to the last worker's result. Requests are counted from the local cloud's log, per client id: every publish to the provisioning topics (accepted, throttled or rejected) and every CONNECT; besides those, each device subscribes to 4 reply topics. The fleets' claim (pointer, certificate, key: 3 S3 reads) is read once per worker before the signal, so the rows measure provisioning against the service's rates rather than this VM running N SDK clients at once; the one-device rows include the read.`,
  );
  if (fleets.length >= 2) {
    result.scaling.push(
      scaling('claim fleet wall time', 'devices', fleets, (f) => f.wallMs, 'ms'),
      scaling(
        'provisioning publishes',
        'devices',
        fleets,
        (f) => f.requests.publishes.reduce((a, b) => a + b, 0),
        'msgs',
      ),
    );
  }
  return result;
}
