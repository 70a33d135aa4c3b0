import { startLocalCloud, startMosquitto } from '@thingcert/local-cloud';
import { issueDeviceCredentials, iotClientFor } from './src/device-credentials.mjs';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const cloud = await startLocalCloud();
const m = await startMosquitto(cloud);
const iot = iotClientFor(cloud);
const dir = mkdtempSync('/tmp/bx-');
const rsa = await issueDeviceCredentials(cloud, iot, dir, 'a', 'rsa');
const go = (args) =>
  new Promise((res) => {
    const t = performance.now();
    let tout;
    const c = spawn('node', [
      'src/raw-device.mjs',
      '--port',
      String(m.port),
      '--ca',
      rsa.caPath,
      '--cert',
      rsa.certPath,
      '--key',
      rsa.keyPath,
      ...args,
    ]);
    let o = '';
    c.stdout.on('data', (d) => {
      o += d;
      tout = performance.now() - t;
    });
    c.stderr.on('data', (d) => (o += d));
    c.on('exit', (code, sig) => res([code, sig, o.trim(), tout, performance.now() - t]));
  });
for (const a of [
  ['--count', '100', '--window', '1'],
  ['--count', '100', '--window', '32'],
  ['--count', '20', '--window', '32'],
  ['--count', '1000', '--window', '100'],
  ['--count', '1000', '--window', '32', '--protocol', 'mqtt3'],
])
  console.log(a.join(' '), JSON.stringify(await go(a)));
iot.destroy();
await m.stop();
await cloud.stop();
console.log('end');
