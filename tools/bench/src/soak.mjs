// Optional soak (`pnpm bench --soak`): the device-runner bundle online for
// BENCH_SOAK_SECONDS (600) publishing every 100 ms on the local broker, which
// restarts every BENCH_SOAK_RESTART_SECONDS (60). Published = received?
import { startLocalCloud } from '@thingcert/local-cloud';
import { spawn } from 'node:child_process';
import { issueDeviceCredentials, iotClientFor, runnerArgs } from './device-credentials.mjs';
import { row, section } from './rows.mjs';
import { summarize } from './stats.mjs';

export async function soak(ctx) {
  const seconds = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
  const restartEvery = Number(process.env.BENCH_SOAK_RESTART_SECONDS ?? 60);
  const result = section(
    'soak',
    `Soak: ${seconds} s at 10 msg/s, broker restarted every ${restartEvery} s`,
  );
  const cloud = await startLocalCloud();
  const iot = iotClientFor(cloud);
  try {
    const creds = await issueDeviceCredentials(cloud, iot, ctx.tmp, 'soak', 'rsa');
    // Message text -> when its PUBACK was seen (harness clock).
    const published = new Map();
    const received = new Set();
    const reconnects = [];
    let interruptedAt;
    const child = spawn(
      process.execPath,
      [
        ...runnerArgs(ctx, creds, cloud.mqtt.port, 'soak'),
        '--protocol',
        'mqtt3',
        '--topic',
        'bench/soak',
        '--count',
        '0',
        '--interval',
        '100',
        '--forever',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const event = JSON.parse(line);
        if (event.event === 'published') published.set(event.message, performance.now());
        if (event.event === 'received') received.add(JSON.parse(event.payload));
        if (event.event === 'interrupted') interruptedAt ??= performance.now();
        if (event.event === 'connected' && event.reconnect && interruptedAt !== undefined) {
          reconnects.push(performance.now() - interruptedAt);
          interruptedAt = undefined;
        }
      }
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      await new Promise((resolve) =>
        setTimeout(
          resolve,
          Math.min(restartEvery * 1000, seconds * 1000 - (performance.now() - started)),
        ),
      );
      if (performance.now() - started < seconds * 1000 - 1000) {
        ctx.log(`  restarting the broker (${Math.round((performance.now() - started) / 1000)} s)`);
        await cloud.restartBroker();
      }
    }
    // Let the last messages come back, then stop the service.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stoppedAt = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    // The runner keeps publishing until the SIGTERM and then disconnects, so
    // the echo of its last publish may still be on its way: a message
    // acknowledged in the last second is "in flight at the stop", not lost.
    const missing = [...published].filter(([message]) => !received.has(message));
    const lost = missing.filter(([, at]) => at < stoppedAt - 1000).map(([message]) => message);
    const publishedRow = row('messages published (PUBACK)', published.size, 'msgs');
    result.rows.push(
      publishedRow,
      row('messages received', received.size, 'msgs', publishedRow),
      row('published but never received', lost.length, 'msgs'),
      row(
        'acknowledged in the last second before the stop, echo not back',
        missing.length - lost.length,
        'msgs',
      ),
    );
    if (lost.length > 0) result.notes.push(`Never received: ${lost.slice(0, 10).join(', ')}.`);
    if (reconnects.length > 0)
      result.rows.push(row('reconnect time after a broker restart', summarize(reconnects), 'ms'));
    result.notes.push(
      `Reconnect times (ms): ${reconnects.map((ms) => ms.toFixed(0)).join(', ') || 'none'}; runner exit code ${code}.`,
    );
  } finally {
    iot.destroy();
    await cloud.stop();
  }
  return result;
}
