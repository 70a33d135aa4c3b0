// Standalone benchmark of the local cloud: reports (does not assert) control-plane
// ops/s and MQTT QoS1 round trips/s on loopback with mqtt.js (not a section of
// `pnpm bench`, whose local-cloud section compares against baselines).
// Run: pnpm nx run bench:local-cloud   (builds first)
import {
  CreateThingCommand,
  DescribeThingCommand,
  IoTClient,
  CreateKeysAndCertificateCommand,
} from '@aws-sdk/client-iot';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { startLocalCloud } from '@thingcert/local-cloud';
import { registerLocalDevice } from '@thingcert/test-support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const cloud = await startLocalCloud();
const iot = new IoTClient({
  endpoint: cloud.iotEndpoint,
  region: cloud.region,
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});

async function rate(label, count, concurrency, op) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${count} in ${seconds.toFixed(2)} s = ${(count / seconds).toFixed(0)}/s`);
}

try {
  await rate('CreateThing (8 concurrent)', 2000, 8, (i) =>
    iot.send(new CreateThingCommand({ thingName: `bench-${i}` })),
  );
  await rate('DescribeThing (8 concurrent)', 2000, 8, (i) =>
    iot.send(new DescribeThingCommand({ thingName: `bench-${i}` })),
  );
  await rate('CreateKeysAndCertificate (2 concurrent)', 40, 2, () =>
    iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true })),
  );

  const device = await registerLocalDevice(iot, {
    policyName: 'bench',
    policyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
    }),
  });
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: '127.0.0.1',
    servername: 'localhost',
    port: cloud.mqtt.port,
    ca: readFileSync(cloud.mqtt.caPath),
    cert: device.certificatePem,
    key: device.privateKeyPem,
    clientId: 'bench',
    reconnectPeriod: 0,
  });
  await client.subscribeAsync('bench/rt', { qos: 1 });
  for (const [label, window] of [
    ['sequential', 1],
    ['window 32', 32],
  ]) {
    const total = window === 1 ? 500 : 5000;
    let received = 0;
    const done = new Promise((resolve) => {
      const onMessage = () => {
        if (++received === total) {
          client.off('message', onMessage);
          resolve();
        }
      };
      client.on('message', onMessage);
    });
    await rate(`MQTT QoS1 round trips, ${label}`, total, window, () =>
      client.publishAsync('bench/rt', 'x', { qos: 1 }),
    );
    await done;
  }
  await client.endAsync();
} finally {
  iot.destroy();
  await cloud.stop();
}
