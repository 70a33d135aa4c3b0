// 4. The local cloud: control-plane operations/s against the same SDK calls on
// an HTTP server that answers `{}` (the floor of SDK + loopback HTTP), and MQTT
// QoS 1 round trips/s of its broker against Debian's mosquitto, same client.
import { CreateThingCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { startLocalCloud, startMosquitto } from '@thingcert/local-cloud';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { issueDeviceCredentials, iotClientFor, tlsFlags } from './device-credentials.mjs';
import { timeProcessOk } from './measure.mjs';
import { row, section } from './rows.mjs';
import { startOnceRows } from './start-once.mjs';
import { summarize } from './stats.mjs';

async function opsPerSecond(count, concurrency, op) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return (count / (performance.now() - started)) * 1000;
}

async function floorServer() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export async function localCloud(ctx) {
  const result = section('local-cloud', 'Local cloud: control plane and MQTT broker');
  const cloud = await startLocalCloud();
  const iot = iotClientFor(cloud);
  const floor = await floorServer();
  const floorIot = new IoTClient({
    endpoint: `http://127.0.0.1:${floor.address().port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let mosquitto;
  try {
    const count = ctx.quick ? 200 : 1000;
    const runs = ctx.quick ? 1 : 3;
    const measure = async (client, command) => {
      await opsPerSecond(50, 8, (i) => client.send(command(`warm-${i}`)));
      const samples = [];
      for (let r = 0; r < runs; r++) {
        samples.push(await opsPerSecond(count, 8, (i) => client.send(command(`b-${r}-${i}`))));
      }
      return summarize(samples);
    };
    ctx.log('  control plane ops/s');
    // CreateThing is idempotent for the same name; fresh names keep it a real insert.
    let unique = 0;
    const create = () => new CreateThingCommand({ thingName: `bench-${++unique}` });
    const describe = (name) =>
      new DescribeThingCommand({ thingName: `bench-${(Number(/\d+$/.exec(name)?.[0]) % 50) + 1}` });
    const describeBase = row(
      `DescribeThing on a server answering {} (${count}, 8 concurrent)`,
      await measure(floorIot, describe),
      'ops/s',
    );
    const createBase = row(
      `CreateThing on a server answering {} (${count}, 8 concurrent)`,
      await measure(floorIot, create),
      'ops/s',
    );
    unique = 0;
    const created = await measure(iot, create);
    const described = await measure(iot, describe);
    // The same calls signed by a role session: SigV4 verified and the role's identity policy
    // evaluated (IAM enforced), against the admin identity (not evaluated) above.
    await cloud.iam.putRole({
      roleName: 'bench-role',
      policies: {
        Things: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'iot:DescribeThing',
              Resource: 'arn:aws:iot:*:*:thing/bench-*',
            },
          ],
        },
      },
    });
    const session = await cloud.iam.assumeRole({ roleName: 'bench-role', sessionName: 'bench' });
    const roleIot = new IoTClient({
      endpoint: cloud.iotEndpoint,
      region: cloud.region,
      credentials: session,
    });
    const describedAsRole = await measure(roleIot, describe).finally(() => roleIot.destroy());
    const adminDescribed = row('local cloud DescribeThing', described, 'ops/s', describeBase);
    result.rows.push(
      row('local cloud CreateThing', created, 'ops/s', createBase),
      createBase,
      adminDescribed,
      describeBase,
      row(
        'local cloud DescribeThing as a role session (IAM enforced)',
        describedAsRole,
        'ops/s',
        adminDescribed,
      ),
    );

    mosquitto = await startMosquitto(cloud);
    const creds = await issueDeviceCredentials(cloud, iot, ctx.tmp, 'broker-bench', 'rsa');
    for (const window of [1, 32]) {
      // One-at-a-time round trips are slow on mosquitto (~36/s here): fewer of them
      // give the same rate and keep the full run inside its 10-minute budget.
      const total = window === 1 ? (ctx.quick ? 50 : 100) : ctx.quick ? 100 : 1000;
      const rates = {};
      for (const [name, broker] of [
        ['mosquitto', mosquitto],
        ['local', cloud.mqtt],
      ]) {
        ctx.log(`  MQTT QoS 1 round trips, window ${window}, ${name}`);
        const samples = [];
        for (let r = 0; r < runs; r++) {
          const out = await timeProcessOk(process.execPath, [
            join(ctx.here, 'raw-device.mjs'),
            ...tlsFlags(creds),
            '--port',
            String(broker.port),
            '--client-id',
            `rt-${name}-${window}-${r}`,
            '--protocol',
            'mqtt3',
            '--topic',
            `bench/rt/${window}/${r}`,
            '--count',
            String(total),
            '--window',
            String(window),
          ]);
          const parsed = JSON.parse(out.stdout.trim().split('\n').pop());
          samples.push((parsed.received / parsed.pubsubMs) * 1000);
        }
        rates[name] = summarize(samples);
      }
      const base = row(
        `mosquitto 2.0 QoS 1 round trips, window ${window}`,
        rates.mosquitto,
        'msg/s',
      );
      result.rows.push(
        row(`local broker QoS 1 round trips, window ${window}`, rates.local, 'msg/s', base),
        base,
      );
    }
    result.notes.push(
      'Both brokers over mTLS on loopback, same client (raw aws-crt MQTT 3.1.1 script), one connection publishing and subscribed.',
    );
    ctx.log('  pnpm start --once, IAM enforced and --no-iam');
    result.rows.push(...(await startOnceRows(ctx)));
    result.notes.push(
      'pnpm start --once: the built CLI, a fresh local cloud per run; IAM enforced = roles, policies, bucket policy and KMS key in the local IAM, the Lambda and the device each with its role session over HTTPS; --no-iam = the admin over HTTP.',
    );
  } finally {
    iot.destroy();
    floorIot.destroy();
    floor.close();
    await mosquitto?.stop();
    await cloud.stop();
  }
  return result;
}
