import { DescribeCertificateCommand, type IoTClient } from '@aws-sdk/client-iot';
import { registerLocalDevice } from '@thingcert/test-support';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running {@link startIotStatusGate}. */
export interface IotStatusGate {
  readonly port: number;
  /** PEM of the CA that signed the gate's server certificate: the device's `--ca`. */
  readonly caPath: string;
  close(): Promise<void>;
}

/**
 * What AWS IoT does to a device whose certificate leaves ACTIVE, in front of
 * a broker that does not (mosquitto, the tests' MQTT 5 broker, checks only
 * that a client certificate is signed by the local CA): an mTLS listener that
 * refuses a certificate the local cloud's IoT registry does not hold as
 * ACTIVE, drops live connections whose certificate left ACTIVE (polled every
 * 100 ms), and otherwise relays the connection to the broker, as one client
 * of its own, so the broker sees the device's MQTT session unchanged.
 */
export async function startIotStatusGate(options: {
  iot: IoTClient;
  /** The local cloud's CA: signs device certificates and the broker's. */
  cloudCaPath: string;
  upstream: { host: string; port: number };
}): Promise<IotStatusGate> {
  const dir = mkdtempSync(join(tmpdir(), 'thingcert-gate-'));
  const pem = serverCredentials(dir);
  // The gate's own client certificate towards the broker, issued by the local cloud.
  const relay = await registerLocalDevice(options.iot);
  const cloudCa = readFileSync(options.cloudCaPath, 'utf8');
  const live = new Map<TLSSocket, { id: string; upstream: TLSSocket }>();

  const isActive = async (id: string): Promise<boolean> => {
    try {
      const { certificateDescription } = await options.iot.send(
        new DescribeCertificateCommand({ certificateId: id }),
      );
      return certificateDescription?.status === 'ACTIVE';
    } catch {
      return false;
    }
  };

  const server = createServer(
    { ...pem, ca: cloudCa, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      socket.pause();
      socket.on('error', () => undefined);
      const id = createHash('sha256').update(socket.getPeerCertificate().raw).digest('hex');
      void isActive(id).then((active) => {
        if (!active) {
          socket.destroy();
          return;
        }
        const upstream = connect({
          host: options.upstream.host,
          port: options.upstream.port,
          servername: 'localhost',
          ca: cloudCa,
          cert: relay.certificatePem,
          key: relay.privateKeyPem,
        });
        upstream.on('error', () => socket.destroy());
        live.set(socket, { id, upstream });
        const forget = (): void => {
          live.delete(socket);
          socket.destroy();
          upstream.destroy();
        };
        socket.on('close', forget);
        upstream.on('close', forget);
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      });
    },
  );
  const poll = setInterval(() => {
    const ids = new Set([...live.values()].map((entry) => entry.id));
    for (const id of ids) {
      void isActive(id).then((active) => {
        if (active) return;
        for (const [socket, entry] of live) {
          if (entry.id === id) socket.destroy();
        }
      });
    }
  }, 100);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    caPath: join(dir, 'gate-ca.pem'),
    close: async () => {
      clearInterval(poll);
      for (const socket of live.keys()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CA of the gate's own and a `localhost` server certificate it signed, made with openssl. */
function serverCredentials(dir: string): { key: string; cert: string } {
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('gate-ca-key.pem'),
    '-out',
    at('gate-ca.pem'),
    '-subj',
    '/CN=thingcert test gate CA',
    '-days',
    '1',
  );
  openssl(
    'req',
    '-new',
    ...ec,
    '-keyout',
    at('server-key.pem'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(at('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('gate-ca.pem'),
    '-CAkey',
    at('gate-ca-key.pem'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '1',
    '-extfile',
    at('san.ext'),
  );
  return {
    key: readFileSync(at('server-key.pem'), 'utf8'),
    cert: readFileSync(at('server.pem'), 'utf8'),
  };
}
