#!/usr/bin/env node
// Composition root of device-runner: real streams, environment, S3 client,
// aws-crt connection and signal handling. Everything below takes them as
// parameters.
import { S3Client } from '@aws-sdk/client-s3';
import { ClaimConnection, DeviceConnection } from '@thingcert/device-client';
import { readFile } from 'node:fs/promises';
import { main } from './main';

const controller = new AbortController();
let signals = 0;
const onSignal = (name: NodeJS.Signals): void => {
  signals++;
  if (signals > 1) {
    process.stderr.write(`device-runner: second ${name}, exiting now\n`);
    process.exit(1);
  }
  controller.abort();
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
  readConfigFile: (path) => readFile(path, 'utf8'),
  // The endpoint comes from AWS_ENDPOINT_URL_S3 when set (the SDK reads it).
  createS3: (region) => new S3Client(region === undefined ? {} : { region }),
  createConnection: (options) => new DeviceConnection(options),
  connectClaim: (options) => ClaimConnection.connect(options),
});
// Our connection is closed by now, but aws-crt's MQTT 5 client leaves native
// handles that keep the event loop alive after close() (aws-crt-nodejs#600):
// waiting for the loop to empty would never end. Exit once our output is out.
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) => new Promise<void>((resolve) => stream.write('', () => resolve())),
  ),
);
process.exit(code);
