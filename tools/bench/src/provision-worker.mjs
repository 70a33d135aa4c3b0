// Child process of the provisioning benchmark (so its memory is measured
// alone and each run starts fresh). The local cloud and response recorder run
// in the harness; their addresses come in the environment.
//   node provision-worker.mjs latency <count>   sequential Creates with the bundled handler
//   node provision-worker.mjs fleet <count>     <count> concurrent Creates, one handler+clients each
// Prints one JSON line.
import { CreateKeysAndCertificateCommand, IoTClient } from '@aws-sdk/client-iot';
import { join } from 'node:path';
import { createEvent } from './create-event.mjs';
import { percentile } from './stats.mjs';

const [mode, countText] = process.argv.slice(2);
const count = Number(countText);
const root = process.env.BENCH_ROOT;
const responseUrl = process.env.BENCH_RESPONSE_URL;
const bucket = process.env.BENCH_BUCKET;

const context = { getRemainingTimeInMillis: () => 300_000 };

// The handler logs JSON lines; they are not what is measured.
console.log = () => undefined;
console.info = () => undefined;
console.warn = () => undefined;
console.error = () => undefined;
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === 'latency') {
  const { handler } = await import(join(root, 'packages/cert-provisioner/dist/lambda/index.mjs'));
  const iot = new IoTClient({});
  const creates = [];
  const raw = [];
  for (let i = 0; i < count + 1; i++) {
    let started = performance.now();
    await handler(createEvent(responseUrl, `lat-${process.pid}-${i}`, bucket), context);
    const createMs = performance.now() - started;
    started = performance.now();
    await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
    const rawMs = performance.now() - started;
    // The first of each is the warm-up (connections, lazy SDK parts).
    if (i > 0) {
      creates.push(createMs);
      raw.push(rawMs);
    }
  }
  iot.destroy();
  print({
    createP50: percentile(creates, 0.5),
    createP95: percentile(creates, 0.95),
    rawP50: percentile(raw, 0.5),
    rawP95: percentile(raw, 0.95),
    creates,
  });
} else {
  const { createAwsClients, createCertificateResourceHandler } = await import(
    join(root, 'packages/cert-provisioner/dist/index.js')
  );
  const silent = { info() {}, warn() {}, error() {} };
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      // One handler + clients per invocation, like separate Lambda containers.
      createCertificateResourceHandler(createAwsClients(), { logger: silent })(
        createEvent(responseUrl, `fleet-${process.pid}-${i}`, bucket),
        context,
      ),
    ),
  );
  print({
    wallMs: performance.now() - started,
    rejected: outcomes.filter((o) => o.status === 'rejected').length,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
}
