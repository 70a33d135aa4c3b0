// 2. Provisioning on the local cloud: Create latency of the bundled handler
// (vs one bare CreateKeysAndCertificate call), and fleets created at once with
// CreateKeysAndCertificate throttled (vs the N/TPS floor).
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalCloud } from '@thingcert/local-cloud';
import { startResponseRecorder } from '@thingcert/test-support';
import { join } from 'node:path';
import { timeProcessOk } from './measure.mjs';
import { row, section } from './rows.mjs';
import { classifyGrowth, summarize } from './stats.mjs';

const TPS = 10;

async function withCloud(options, work) {
  const ioLog = [];
  const cloud = await startLocalCloud({ ...options, log: (line) => ioLog.push(line) });
  const recorder = await startResponseRecorder();
  const s3 = new S3Client({
    region: cloud.region,
    endpoint: cloud.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    return await work({ cloud, recorder, ioLog });
  } finally {
    s3.destroy();
    await recorder.close();
    await cloud.stop();
  }
}

function worker(ctx, cloud, recorder, args) {
  return timeProcessOk(process.execPath, [join(ctx.here, 'provision-worker.mjs'), ...args], {
    env: {
      ...cloud.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      BENCH_ROOT: ctx.root,
      BENCH_RESPONSE_URL: recorder.responseUrl(),
      BENCH_BUCKET: 'bench',
    },
    timeoutMs: 600_000,
  }).then((r) => JSON.parse(r.stdout.trim().split('\n').pop()));
}

export async function provisioning(ctx) {
  const result = section('provisioning', 'Provisioning on the local cloud');
  const latencyCount = ctx.quick ? 5 : 40;
  ctx.log(`  Create latency (${latencyCount} sequential)`);
  await withCloud({}, async ({ cloud, recorder }) => {
    const out = await worker(ctx, cloud, recorder, ['latency', String(latencyCount)]);
    const failed = recorder.accepted().filter((r) => r.json?.Status !== 'SUCCESS').length;
    const rawP50 = row('bare CreateKeysAndCertificate call p50', out.rawP50, 'ms');
    const rawP95 = row('bare CreateKeysAndCertificate call p95', out.rawP95, 'ms');
    result.rows.push(
      row(
        `Create (bundled handler, warm) p50 of ${latencyCount}`,
        summarize(out.creates),
        'ms',
        rawP50,
      ),
      row(`Create p95 of ${latencyCount}`, out.createP95, 'ms', rawP95),
      rawP50,
      rawP95,
      row('Create responses FAILED', failed, 'calls'),
    );
  });

  const sizes = ctx.quick ? [10] : [10, 100, 1000];
  const fleet = [];
  for (const n of sizes) {
    ctx.log(`  fleet of ${n}, CreateKeysAndCertificate throttled at ${TPS} TPS`);
    await withCloud(
      { throttle: { CreateKeysAndCertificate: TPS } },
      async ({ cloud, recorder, ioLog }) => {
        const out = await worker(ctx, cloud, recorder, ['fleet', String(n)]);
        const iot = ioLog.map((line) => JSON.parse(line)).filter((l) => l.service === 'iot');
        const creates = iot.filter((l) => l.operation === 'CreateKeysAndCertificate');
        const throttled = creates.filter((l) => l.error === 'ThrottlingException').length;
        const answers = recorder.accepted().map((r) => r.json);
        const failed = answers.filter((a) => a?.Status !== 'SUCCESS').length + (n - answers.length);
        fleet.push({ n, ...out, throttled, failed, calls: creates.length });
        const reasons = new Map();
        for (const answer of answers.filter((a) => a?.Status !== 'SUCCESS')) {
          const reason = String(answer?.Reason ?? 'no reason').slice(0, 200);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
        for (const [reason, times] of reasons) {
          result.notes.push(`${n} things: ${times} FAILED with "${reason}".`);
        }
        const floor = row(`${n} things: floor N/TPS`, (n / TPS) * 1000, 'ms');
        result.rows.push(
          row(`${n} things: wall time`, out.wallMs, 'ms', floor),
          floor,
          row(`${n} things: FAILED responses`, failed, 'calls'),
          row(
            `${n} things: CreateKeysAndCertificate calls (${throttled} throttled, retried)`,
            creates.length,
            'calls',
          ),
          row(`${n} things: peak RSS of the invoking process`, out.maxRssKiB / 1024, 'MiB'),
        );
      },
    );
  }
  result.notes.push(
    `The token bucket allows a burst of ${TPS}, so small fleets beat N/TPS; each invocation builds its own clients (separate Lambda containers).`,
  );
  if (fleet.length >= 2) {
    result.scaling.push(
      scaling('provisioning wall time', 'things', fleet, (f) => f.wallMs, 'ms'),
      scaling('provisioning peak RSS', 'things', fleet, (f) => f.maxRssKiB / 1024, 'MiB'),
      scaling('CreateKeysAndCertificate calls', 'things', fleet, (f) => f.calls, 'calls'),
    );
  }
  return result;
}

/** Growth of one metric over sizes, with the fitted exponent. */
export function scaling(what, sizeUnit, points, value, unit) {
  const data = points.map((p) => ({ size: p.n, value: value(p) }));
  const { exponent, growth } = classifyGrowth(data);
  return { what, sizeUnit, unit, points: data, exponent, growth };
}
