#!/usr/bin/env node
// The baseline device: the least aws-iot-device-sdk-v2 code that does what the
// device runner does (mTLS connect, subscribe, publish N QoS 1 messages inside a
// window of in-flight publishes, wait until all N came back, disconnect). The
// harness runs it as a fresh process on the same broker as the runner.
//   node raw-device.mjs --host localhost --port 8883 --ca ca.pem --cert c.pem --key k.pem \
//     --client-id x --count 5 [--window 32] [--protocol mqtt5|mqtt3] [--connect-only]
// Prints one JSON line: { connectMs, pubsubMs, received, maxRssKiB }.
import { iot, mqtt, mqtt5 } from 'aws-iot-device-sdk-v2';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: 'localhost' },
    port: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'client-id': { type: 'string' },
    topic: { type: 'string', default: 'bench/raw' },
    count: { type: 'string', default: '5' },
    window: { type: 'string', default: '32' },
    protocol: { type: 'string', default: 'mqtt5' },
    'connect-only': { type: 'boolean', default: false },
  },
});
const count = Number(args.count);
const window = Number(args.window);
const port = Number(args.port);
const clientId = args['client-id'] ?? `raw-${process.pid}`;

/** Same payload shape as the runner: the JSON string "Hello World! [i]". */
const payloadOf = (i) => JSON.stringify(`Hello World! [${i}]`);

async function withMqtt5(work) {
  const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
    args.host,
    args.cert,
    args.key,
  );
  builder.withPort(port);
  builder.withCertificateAuthorityFromPath(undefined, args.ca);
  builder.withConnectProperties({ clientId, keepAliveIntervalSeconds: 60 });
  const client = new mqtt5.Mqtt5Client(builder.build());
  const handlers = [];
  client.on('error', () => undefined);
  client.on('messageReceived', (event) => handlers.forEach((h) => h(event.message.topicName)));
  try {
    const connected = new Promise((resolve, reject) => {
      client.once('connectionSuccess', resolve);
      client.once('connectionFailure', (event) => reject(new Error(String(event.error))));
    });
    const started = performance.now();
    client.start();
    await connected;
    const connectMs = performance.now() - started;
    return await work({
      connectMs,
      subscribe: (topic) =>
        client.subscribe({ subscriptions: [{ topicFilter: topic, qos: mqtt5.QoS.AtLeastOnce }] }),
      publish: (topic, payload) =>
        client.publish({ topicName: topic, payload, qos: mqtt5.QoS.AtLeastOnce }),
      onMessage: (handler) => handlers.push(handler),
    });
  } finally {
    const stopped = new Promise((resolve) => client.once('stopped', resolve));
    client.stop();
    await stopped;
    // Native handles keep the process alive until closed.
    client.close();
  }
}

async function withMqtt3(work) {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
    args.cert,
    args.key,
  )
    .with_certificate_authority_from_path(undefined, args.ca)
    .with_endpoint(args.host)
    .with_port(port)
    .with_client_id(clientId)
    // A persistent session, like the device runner's: the same work for the broker.
    .with_clean_session(false)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  const handlers = [];
  connection.on('error', () => undefined);
  try {
    const started = performance.now();
    await connection.connect();
    const connectMs = performance.now() - started;
    return await work({
      connectMs,
      subscribe: (topic) =>
        connection.subscribe(topic, mqtt.QoS.AtLeastOnce, (t) => handlers.forEach((h) => h(t))),
      publish: (topic, payload) => connection.publish(topic, payload, mqtt.QoS.AtLeastOnce),
      onMessage: (handler) => handlers.push(handler),
    });
  } finally {
    await connection.disconnect().catch(() => undefined);
  }
}

const run = args.protocol === 'mqtt3' ? withMqtt3 : withMqtt5;
const result = await run(async ({ connectMs, subscribe, publish, onMessage }) => {
  if (args['connect-only']) return { connectMs };
  let received = 0;
  const allBack = new Promise((resolve) => {
    onMessage(() => {
      if (++received === count) resolve();
    });
  });
  const started = performance.now();
  await subscribe(args.topic);
  let next = 1;
  // A bounded window of in-flight publishes: awaiting each PUBACK before the
  // next publish costs a full round trip per message.
  await Promise.all(
    Array.from({ length: Math.min(window, count) }, async () => {
      while (next <= count) await publish(args.topic, payloadOf(next++));
    }),
  );
  await Promise.race([
    allBack,
    new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`only ${received}/${count} came back within 120 s`)),
        120_000,
      ).unref(),
    ),
  ]);
  return { connectMs, pubsubMs: performance.now() - started, received };
});
// aws-crt's MQTT 5 client keeps the event loop alive after close()
// (aws-crt-nodejs#600); like the device runner, exit once the line is out.
process.stdout.write(
  `${JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
  () => process.exit(0),
);
