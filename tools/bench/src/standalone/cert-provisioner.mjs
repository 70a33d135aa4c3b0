// Standalone benchmark of the certificate provisioner (printed, not asserted;
// not a section of `pnpm bench`, whose lambda and provisioning sections measure
// the same against same-run baselines). `pnpm nx run bench:cert-provisioner`
// builds what it needs first.
//   BENCH_THINGS=100 BENCH_TPS=10 BENCH_RUNS=10 pnpm nx run bench:cert-provisioner
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DEVICE_CERTIFICATE_PROPERTY as PROPERTY, KEY_MODES } from '@thingcert/contracts';
import { startLocalCloud } from '@thingcert/local-cloud';
import { startResponseRecorder } from '@thingcert/test-support';
import { createEvent } from '../create-event.mjs';
import { buildSdkExternal } from '../lambda-sdk-external.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BUNDLE = join(ROOT, 'packages/cert-provisioner/dist/lambda/index.mjs');
const LIBRARY = join(ROOT, 'packages/cert-provisioner/dist/index.js');
const SCRATCH = mkdtempSync(join(tmpdir(), 'thingcert-bench-'));
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const THINGS = Number(process.env.BENCH_THINGS ?? 100);
const TPS = Number(process.env.BENCH_TPS ?? 10);
const run = promisify(execFile);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const ms = (value) => `${value.toFixed(1)} ms`;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

function section(title) {
  console.log(`\n## ${title}`);
}

async function bundleSizes() {
  section('Bundle size');
  const bytes = statSync(BUNDLE).size;
  console.log(
    `dist/lambda/index.mjs: ${kib(bytes)} (${kib(gzipSync(readFileSync(BUNDLE)).length)} gzipped, ~ the zip Lambda stores)`,
  );
}

/** Fresh process: time from process start and from before import until the handler exists. */
async function coldInit(bundle) {
  const script = `const t0 = performance.now(); const m = await import(${JSON.stringify(bundle)}); if (typeof m.handler !== 'function') process.exit(2); console.log(JSON.stringify({ importMs: performance.now() - t0, sinceStartMs: performance.now() }));`;
  const env = { ...process.env, AWS_REGION: 'us-east-1' };
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env });
    samples.push({ ...JSON.parse(stdout), wallMs: performance.now() - started });
  }
  return {
    importMs: median(samples.map((s) => s.importMs)),
    sinceStartMs: median(samples.map((s) => s.sinceStartMs)),
    wallMs: median(samples.map((s) => s.wallMs)),
  };
}

async function coldInits() {
  section(`Cold init (fresh node ${process.version} process, median of ${RUNS})`);
  const external = await buildSdkExternal(ROOT, join(SCRATCH, 'lambda-sdk-external'));
  console.log(
    `SDK-external variant: ${kib(statSync(external).size)} (our code + cfn-response only)`,
  );
  for (const [name, path] of [
    ['SDK bundled (shipped)', BUNDLE],
    ['SDK external (node_modules)', external],
  ]) {
    const result = await coldInit(path);
    console.log(
      `${name.padEnd(28)} import→ready ${ms(result.importMs)}, process start→ready ${ms(result.sinceStartMs)}, spawn→exit ${ms(result.wallMs)}`,
    );
  }
}

async function withCloud(options, work) {
  const ioLog = [];
  const cloud = await startLocalCloud({ ...options, log: (line) => ioLog.push(line) });
  const recorder = await startResponseRecorder();
  Object.assign(process.env, cloud.env);
  const s3 = new S3Client({
    region: cloud.region,
    endpoint: cloud.s3Endpoint,
    forcePathStyle: true,
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const quiet = console.log;
  try {
    return await work({ cloud, recorder, ioLog, quiet });
  } finally {
    console.log = quiet;
    await recorder.close();
    await cloud.stop();
  }
}

async function createLatency() {
  section(
    `Create latency against the local cloud (bundled handler, warm, ${RUNS * 2} sequential Creates)`,
  );
  await withCloud({}, async ({ recorder, quiet }) => {
    const { handler } = await import(BUNDLE);
    console.log = () => undefined; // the handler's JSON logs
    console.error = () => undefined;
    for (const mode of KEY_MODES) {
      const samples = [];
      for (let i = 0; i < RUNS * 2; i++) {
        const event = createEvent(recorder.responseUrl(), `lat-${mode}-${i}`, 'bench');
        event.ResourceProperties[PROPERTY.keyMode] = mode;
        const started = performance.now();
        await handler(event, { getRemainingTimeInMillis: () => 60_000 });
        samples.push(performance.now() - started);
      }
      quiet(
        `KeyMode ${mode.padEnd(6)} p50 ${ms(median(samples))}, p95 ${ms(percentile(samples, 0.95))}, first ${ms(samples[0])}`,
      );
    }
    const failed = recorder.accepted().filter((r) => r.json?.Status !== 'SUCCESS').length;
    quiet(`FAILED responses: ${failed}`);
  });
}

async function throttledFleet() {
  section(`${THINGS} things, local cloud throttled to ${TPS} TPS on CreateKeysAndCertificate`);
  const { createAwsClients, createCertificateResourceHandler } = await import(LIBRARY);
  await withCloud(
    { throttle: { CreateKeysAndCertificate: TPS } },
    async ({ recorder, ioLog, quiet }) => {
      const silent = { info() {}, warn() {}, error() {} };
      const started = performance.now();
      // One handler + clients per invocation, like separate Lambda containers
      // (each with its own adaptive-retry token bucket), all at once.
      await Promise.all(
        Array.from({ length: THINGS }, (_, i) =>
          createCertificateResourceHandler(createAwsClients(), { logger: silent })(
            createEvent(recorder.responseUrl(), `fleet-${i}`, 'bench'),
            { getRemainingTimeInMillis: () => 300_000 },
          ),
        ),
      );
      const wallS = (performance.now() - started) / 1000;
      const lines = ioLog.map((line) => JSON.parse(line)).filter((l) => l.service === 'iot');
      const creates = lines.filter((l) => l.operation === 'CreateKeysAndCertificate');
      const throttled = creates.filter((l) => l.error === 'ThrottlingException').length;
      const answers = recorder.accepted().map((r) => r.json);
      const failed = answers.filter((a) => a.Status !== 'SUCCESS');
      quiet(
        `wall ${wallS.toFixed(2)} s vs floor N/TPS = ${(THINGS / TPS).toFixed(2)} s (ratio ${(wallS / (THINGS / TPS)).toFixed(2)})`,
      );
      quiet(
        `CreateKeysAndCertificate calls: ${creates.length} (${throttled} throttled, answered 400 ThrottlingException and retried by the SDK)`,
      );
      quiet(
        `responses: ${answers.length - failed.length} SUCCESS, ${failed.length} FAILED${failed[0] ? ` (first: ${failed[0].Reason})` : ''}`,
      );
    },
  );
}

try {
  await bundleSizes();
  await coldInits();
  await createLatency();
  await throttledFleet();
} finally {
  rmSync(SCRATCH, { recursive: true, force: true });
}
