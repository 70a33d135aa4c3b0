// 6. Rotation: what a certificate rotation costs a device publishing 10 QoS 1
// messages a second (`pnpm start --once --rotate N`: real stack Updates of the
// synthesized app, the device following its credential pointer by itself),
// beside a plain broker restart: the same runner reconnecting with the same
// certificate, nothing else changing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalCloud } from '@thingcert/local-cloud';
import { readPrintedRotations, ROTATION_LOG_SOURCE } from '@thingcert/local-deploy';
import { iotClientFor, issueDeviceCredentials, runnerArgs } from './device-credentials.mjs';
import { timeProcess } from './measure.mjs';
import { row, section } from './rows.mjs';
import { summarize } from './stats.mjs';

/** Waits for `check()` to hold, every 50 ms, for at most `ms`. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The runner bundle publishing 10 a second on fixed credentials; every
 * broker restart is one offline→online measured from its event lines.
 * Lost: indexes acknowledged (before the last 3 s) that never came back.
 */
async function brokerRestarts(ctx, restarts) {
  const cloud = await startLocalCloud();
  let child;
  try {
    const creds = await issueDeviceCredentials(
      cloud,
      iotClientFor(cloud),
      ctx.tmp,
      'rotation-baseline',
    );
    const thing = 'rotation-baseline';
    child = spawn(
      process.execPath,
      [
        ...runnerArgs(ctx, creds, cloud.mqtt.port, thing),
        ...['--protocol', 'mqtt3', '--topic', 'bench/restart', '--count', '5'],
        ...['--interval', '100', '--forever', '--json'],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const acked = new Map();
    const backAgain = new Set();
    const onlineAt = [];
    let offlineSince;
    const offlineMs = [];
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line;
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      const now = Date.now();
      if (line.event === 'published') acked.set(line.index, now);
      if (line.event === 'received') backAgain.add(Number(/\[(\d+)\]/.exec(line.payload)?.[1]));
      if (line.event === 'offline') offlineSince ??= now;
      if (line.event === 'online') {
        onlineAt.push(now);
        if (offlineSince !== undefined) offlineMs.push(now - offlineSince);
        offlineSince = undefined;
      }
    });
    await until(() => acked.size >= 20, 60_000, 'the baseline device to publish');
    for (let restart = 1; restart <= restarts; restart++) {
      const before = onlineAt.length;
      await cloud.restartBroker();
      await until(() => onlineAt.length > before, 60_000, 'the device back online');
      await sleep(1000);
    }
    const end = Date.now();
    await sleep(3000);
    const lost = [...acked].filter(([index, at]) => at <= end && !backAgain.has(index)).length;
    return { offlineMs, lost };
  } finally {
    child?.kill('SIGTERM');
    await cloud.stop();
  }
}

/**
 * `pnpm start --once --rotate N` (the built CLI), its printed rotation lines
 * read back by local-deploy's own reader (the one its integration test uses).
 */
async function rotations(ctx, count) {
  const run = await timeProcess(
    process.execPath,
    [join(ctx.root, 'tools/local-deploy/dist/cli.js'), '--once', '--rotate', String(count)],
    { timeoutMs: 120_000 + count * 60_000 },
  );
  const printed = readPrintedRotations(run.stdout);
  if (run.code !== 0 || printed.length !== count) {
    throw new Error(
      `pnpm start --once --rotate ${count} exited ${run.code}: ${run.stdout
        .split('\n')
        .filter((l) => l.includes(`[${ROTATION_LOG_SOURCE}]`))
        .join(' | ')}`,
    );
  }
  const devices = printed.flatMap((rotation) => rotation.devices);
  return {
    updateMs: printed.map((rotation) => rotation.updateMs),
    offlineMs: devices.map((device) => device.offlineMs),
    lost: devices.reduce((sum, device) => sum + device.lost, 0),
  };
}

export async function rotation(ctx) {
  const result = section('rotation', 'Rotation: device offline time and messages lost at 10 msg/s');
  const count = ctx.quick ? 1 : 5;
  ctx.log(`  broker restart baseline (${count} restarts)`);
  const baseline = await brokerRestarts(ctx, count);
  const baseRow = row('broker restart: device offline', summarize(baseline.offlineMs), 'ms');
  const baseMax = row('broker restart: device offline, max', Math.max(...baseline.offlineMs), 'ms');
  const baseLost = row('broker restart: messages lost', baseline.lost, 'msgs');
  if (ctx.quick) {
    // The same command, its lines read by the same reader, is an integration
    // test of local-deploy (pnpm-start.integ.test.ts) in the same `pnpm test`.
    result.rows.push(baseRow, baseMax, baseLost);
    result.skipped.push(
      "pnpm start --once --rotate 1: run and read by local-deploy's pnpm-start.integ.test.ts (full run only)",
    );
  } else {
    ctx.log(`  pnpm start --once --rotate ${count}`);
    const rotated = await rotations(ctx, count);
    result.rows.push(
      baseRow,
      row('rotation (stack Update): device offline', summarize(rotated.offlineMs), 'ms', baseRow),
      baseMax,
      row('rotation: device offline, max', Math.max(...rotated.offlineMs), 'ms', baseMax),
      row('rotation: stack Update time', summarize(rotated.updateMs), 'ms'),
      baseLost,
      row(`rotation: messages lost (${count} rotations)`, rotated.lost, 'msgs'),
    );
  }
  result.notes.push(
    "Offline: from the runner's `offline` event line to its next `online`, median and max over the restarts / rotations. Lost: QoS 1 publishes acknowledged by the broker that never came back on the subscription. Rotation runs through `pnpm start --once --rotate N` (MQTT 3.1.1 on the local broker, credential pointer followed); the baseline is the same runner on fixed credentials while `restartBroker()` drops every connection.",
  );
  return result;
}
