// Standalone benchmark of the device side (reported, not asserted; not a section
// of `pnpm bench`, whose device section runs the runner bundle against a raw
// aws-crt script). `pnpm nx run bench:device-runner` builds what it needs first.
//   1. process start → first PUBACK (the CLI, MQTT 3.1.1 against the local cloud broker)
//   2. the 5-message scenario, wall time of the whole CLI process
//   3. QoS 1 throughput, 10,000 messages out and back (CLI process), with its peak RSS
//   4. 1,000 in process over MQTT 5 against mosquitto, for comparison
// The one benchmark that runs device code in process (part 4 below): a local
// measurement, not a dependency of a local tool on device code, so it is exempt
// from the runtime:local boundary that keeps device code out of the tools.
// eslint-disable-next-line @nx/enforce-module-boundaries -- see above
import { DeviceConnection, fetchCredentials, pubsub } from '@thingcert/device-client';
import { startLocalCloud, startMosquitto } from '@thingcert/local-cloud';
import { localClients, registerLocalDevice, seedPolicy } from '@thingcert/test-support';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const cli = fileURLToPath(new URL('../../../../apps/device-runner/dist/cli.js', import.meta.url));
const MANY = Number(process.env.BENCH_MESSAGES ?? 10_000);
// mosquitto's default max_queued_messages (1000) drops QoS 1 messages beyond it: keep under it.
const MQTT5_MESSAGES = Number(process.env.BENCH_MQTT5_MESSAGES ?? 1_000);

const cloud = await startLocalCloud();
const work = await mkdtemp(join(tmpdir(), 'device-runner-bench-'));
const { iot, s3 } = localClients(cloud);
let n = 0;

/** A thing named like its bucket, registered as the seed does it; returns the name. */
async function provision() {
  const id = `bench-${++n}`;
  await registerLocalDevice(iot, {
    thingName: id,
    policyName: id,
    policyDocument: seedPolicy(cloud),
    s3: { client: s3, bucket: id, thingName: id },
  });
  return id;
}

/** Runs the CLI; returns ms to the first `published` line, total ms and peak RSS (VmHWM). */
function runCli(thing, extra) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstPuback;
    let peakKiB;
    const child = spawn(
      process.execPath,
      [
        cli,
        'run',
        '--bucket',
        thing,
        // The fixed objects registerLocalDevice writes (the runner's default is the credential pointer).
        '--certificate-object-key',
        `${thing}/device.pem.crt`,
        '--private-key-object-key',
        `${thing}/private.pem.key`,
        '--thing',
        thing,
        '--endpoint',
        cloud.dataEndpoint,
        '--protocol',
        'mqtt3',
        '--json',
        '--credentials-dir',
        join(work, thing),
        ...extra,
      ],
      { env: { ...process.env, ...cloud.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      if (firstPuback === undefined && buffered.includes('"event":"published"')) {
        firstPuback = performance.now() - started;
      }
      if (peakKiB === undefined && buffered.includes('"event":"done"')) {
        // High-water mark of resident memory, read just before the process exits.
        readFile(`/proc/${child.pid}/status`, 'utf8')
          .then((status) => {
            peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
          })
          .catch(() => undefined);
      }
      if (buffered.length > 1_000_000) buffered = buffered.slice(-1_000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve({ firstPuback, total: performance.now() - started, peakMiB: peakKiB / 1024 })
        : reject(new Error(`device-runner exited ${code}`)),
    );
  });
}

const fmt = (ms) => `${ms.toFixed(0)} ms`;
const rows = [];
try {
  const first = await runCli(await provision(), ['--count', '1']);
  rows.push(['process start → first PUBACK (MQTT 3.1.1, local broker)', fmt(first.firstPuback)]);
  const five = await runCli(await provision(), ['--count', '5']);
  rows.push(['5-message scenario, whole process', fmt(five.total)]);
  rows.push(['  peak RSS', `${five.peakMiB.toFixed(1)} MiB`]);
  const many = await runCli(await provision(), ['--count', String(MANY)]);
  rows.push([`${MANY} QoS 1 messages out and back, whole process`, fmt(many.total)]);
  rows.push(['  throughput', `${((MANY / many.total) * 1000).toFixed(0)} msg/s`]);
  rows.push(['  peak RSS', `${many.peakMiB.toFixed(1)} MiB`]);

  const mosquitto = await startMosquitto(cloud);
  try {
    const thing = await provision();
    const files = await fetchCredentials({
      s3,
      bucket: thing,
      thing,
      dir: join(work, `${thing}-5`),
    });
    const connection = new DeviceConnection({
      thingName: thing,
      endpoint: mosquitto.host,
      port: mosquitto.port,
      caPath: cloud.mqtt.caPath,
      certPath: files.certPath,
      keyPath: files.keyPath,
    });
    try {
      const connectStart = performance.now();
      await connection.start();
      rows.push(['MQTT 5 connect (mosquitto, in process)', fmt(performance.now() - connectStart)]);
      const started = performance.now();
      const result = await pubsub(connection, {
        count: MQTT5_MESSAGES,
        topic: 'test/bench',
        window: 64,
      });
      const elapsed = performance.now() - started;
      rows.push([
        `${result.received}/${MQTT5_MESSAGES} QoS 1 over MQTT 5, in process`,
        fmt(elapsed),
      ]);
      rows.push(['  throughput', `${((MQTT5_MESSAGES / elapsed) * 1000).toFixed(0)} msg/s`]);
    } finally {
      await connection.stop();
    }
  } finally {
    await mosquitto.stop();
  }
} finally {
  await cloud.stop();
  await rm(work, { recursive: true, force: true });
}
const width = Math.max(...rows.map(([label]) => label.length));
console.log(`device-runner bench (node ${process.version}, ${process.platform}-${process.arch})`);
for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
