import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCertificateStatusGate, type CertificateStatusGate } from './certificate-status-gate';
import { LocalCloudError } from './errors';
import { cloudInternals, type LocalCloud, type LocalCloudInternals } from './local-cloud';

/** A running mosquitto. */
export interface MosquittoInstance {
  host: string;
  /** Where clients connect: the certificate-status gate's port (or mosquitto's, without the gate). */
  port: number;
  stop(): Promise<void>;
}

/** Options for {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Port clients connect to (127.0.0.1). @default 0 (a free port) */
  port?: number;
  /**
   * Put AWS IoT's certificate-status rules in front of mosquitto (see
   * {@link startMosquitto}). `false` gives mosquitto as it is, checking only
   * the CA signature (kinder than AWS: for broker benchmarks only).
   * @default true
   */
  certificateStatusGate?: boolean;
}

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

/**
 * Starts a Debian `mosquitto` (MQTT 5 and 3.1.1) with mTLS whose server
 * certificate and client CA come from the local cloud's CA, for tests of MQTT 5
 * clients (aedes speaks MQTT 3.1.1 only). In front of it, by default, a gate
 * with AWS IoT's certificate rules, from the local cloud's own registry: a
 * client whose certificate is not registered or not ACTIVE is hung up on
 * after the TLS handshake, and a live connection is cut the moment its
 * certificate leaves ACTIVE or is deleted (see `certificate-status-gate.ts`).
 * The MQTT session is mosquitto's, unchanged by the gate. IoT policies are
 * not evaluated (the local broker does that, for MQTT 3.1.1).
 * @example
 * ```ts
 * const broker = await startMosquitto(cloud);
 * const client = mqtt.connect({ protocol: 'mqtts', host: 'localhost', port: broker.port, protocolVersion: 5, ca, cert, key });
 * ```
 */
export async function startMosquitto(
  cloud: LocalCloud,
  options: MosquittoOptions = {},
): Promise<MosquittoInstance> {
  const internals = cloudInternals.get(cloud);
  if (internals === undefined) {
    throw new LocalCloudError('startMosquitto needs a LocalCloud returned by startLocalCloud');
  }
  const gated = options.certificateStatusGate ?? true;
  const mosquitto = await runMosquitto(
    cloud.mqtt.caPath,
    internals,
    gated ? await freeLoopbackPort() : (options.port ?? (await freeLoopbackPort())),
  );
  if (!gated) return { host: 'localhost', port: mosquitto.port, stop: () => mosquitto.stop() };
  let gate: CertificateStatusGate | undefined;
  const drop = (certificateId: string): void => gate?.dropCertificate(certificateId);
  try {
    const relay = await internals.ca.createKeysAndCertificate();
    gate = await startCertificateStatusGate({
      port: options.port ?? 0,
      caPem: internals.ca.certificatePem,
      server: await internals.ca.createServerCredentials(),
      client: { certPem: relay.pem, keyPem: relay.privateKeyPem },
      upstream: { host: '127.0.0.1', port: mosquitto.port },
      isUsable: (id) => internals.registry.certificates.get(id)?.status === 'ACTIVE',
    });
  } catch (error) {
    await mosquitto.stop();
    throw error;
  }
  internals.certificateUnusable.add(drop);
  const running = gate;
  let stopping: Promise<void> | undefined;
  return {
    host: 'localhost',
    port: running.port,
    stop: () => {
      stopping ??= (async () => {
        internals.certificateUnusable.delete(drop);
        await running.close();
        await mosquitto.stop();
      })();
      return stopping;
    },
  };
}

/** mosquitto itself, with mTLS from the local CA, on `port` (127.0.0.1). */
async function runMosquitto(
  caPath: string,
  internals: LocalCloudInternals,
  port: number,
): Promise<{ port: number; stop(): Promise<void> }> {
  const binary = findMosquitto();
  const dir = await mkdtemp(join(tmpdir(), 'thingcert-mosquitto-'));
  const server = await internals.ca.createServerCredentials();
  await writeFile(join(dir, 'server.pem'), server.certPem, { mode: 0o600 });
  await writeFile(join(dir, 'server-key.pem'), server.keyPem, { mode: 0o600 });
  const config = [
    'per_listener_settings false',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    `listener ${port} 127.0.0.1`,
    `cafile ${caPath}`,
    `certfile ${join(dir, 'server.pem')}`,
    `keyfile ${join(dir, 'server-key.pem')}`,
    'require_certificate true',
    'use_identity_as_username true',
    // Without it TLS handshakes stall ~40 ms on loopback (Nagle + delayed ACK).
    'set_tcp_nodelay true',
    // Benchmarks and soak tests push 100k QoS 1 messages through one
    // subscriber: mosquitto's defaults (20 in flight, 1000 queued per client)
    // drop QoS 1 messages beyond the queue and pace the rest.
    'max_inflight_messages 0',
    'max_queued_messages 0',
    'allow_anonymous false',
    '',
  ].join('\n');
  await writeFile(join(dir, 'mosquitto.conf'), config, { mode: 0o600 });
  // Running as root, mosquitto would switch to user "mosquitto", which cannot read our 0600 keys.
  if (process.getuid?.() === 0) {
    await writeFile(join(dir, 'mosquitto.conf'), `user root\n${config}`, { mode: 0o600 });
  }
  const child = spawn(binary, ['-c', join(dir, 'mosquitto.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    await waitUntilRunning(child);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function findMosquitto(): string {
  const fromPath = (process.env['PATH'] ?? '')
    .split(':')
    .map((dir) => join(dir, 'mosquitto'))
    .find((candidate) => existsSync(candidate));
  const found = fromPath ?? CANDIDATES.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new LocalCloudError('mosquitto is not installed: run `apt-get install -y mosquitto`');
  }
  return found;
}

function waitUntilRunning(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new LocalCloudError(`mosquitto did not start within 5 s:\n${output}`)),
      5000,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/running/.test(output)) {
        clearTimeout(timer);
        child.stderr?.resume();
        resolve();
      }
    });
    child.once('error', (error) =>
      fail(new LocalCloudError('cannot run mosquitto', { cause: error })),
    );
    child.once('exit', (code) =>
      fail(new LocalCloudError(`mosquitto exited with ${code}:\n${output}`)),
    );
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
