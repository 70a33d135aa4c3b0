import { connect, createServer, type TLSSocket } from 'node:tls';
import { certificateIdOf } from './certificate-authority';

/** What {@link startCertificateStatusGate} needs. */
export interface CertificateStatusGateOptions {
  /** Port to listen on (127.0.0.1); 0 for a free one. */
  readonly port: number;
  /** The local CA (PEM): it signs device certificates, the gate's and the broker's. */
  readonly caPem: string;
  /** The gate's server certificate and key (PEM), for `localhost`. */
  readonly server: { readonly certPem: string; readonly keyPem: string };
  /** The gate's own client certificate and key towards the broker (PEM), from the local CA. */
  readonly client: { readonly certPem: string; readonly keyPem: string };
  /** The broker the gate relays to (mTLS). */
  readonly upstream: { readonly host: string; readonly port: number };
  /** Whether AWS IoT would let this certificate connect now: registered and ACTIVE. */
  isUsable(certificateId: string): boolean;
}

/** A running {@link startCertificateStatusGate}. */
export interface CertificateStatusGate {
  readonly port: number;
  /** Cuts every connection made with this certificate (it left ACTIVE or was deleted). */
  dropCertificate(certificateId: string): void;
  close(): Promise<void>;
}

/**
 * AWS IoT's certificate rules in front of an MQTT broker that checks only the
 * CA signature (mosquitto): an mTLS listener that hangs up on a client whose
 * certificate is not registered or not ACTIVE, as soon as its handshake is
 * done and before any MQTT byte reaches the broker, and that cuts the live
 * connections of a certificate the moment {@link CertificateStatusGate.dropCertificate}
 * is called (the local cloud calls it when UpdateCertificate or
 * DeleteCertificate makes a certificate unusable). Every other connection is
 * relayed byte for byte to the broker over a TLS connection of the gate's own,
 * so the client's MQTT session (client id, clean start, session expiry,
 * queued QoS 1 messages) is the broker's as if the client were connected
 * directly.
 */
export async function startCertificateStatusGate(
  options: CertificateStatusGateOptions,
): Promise<CertificateStatusGate> {
  const live = new Map<TLSSocket, { certificateId: string; upstream: TLSSocket }>();
  const server = createServer(
    {
      cert: options.server.certPem,
      key: options.server.keyPem,
      ca: options.caPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      socket.on('error', () => undefined);
      const raw = socket.getPeerCertificate().raw;
      const certificateId = raw === undefined ? undefined : certificateIdOf(new Uint8Array(raw));
      if (certificateId === undefined || !options.isUsable(certificateId)) {
        socket.destroy();
        return;
      }
      const upstream = connect({
        host: options.upstream.host,
        port: options.upstream.port,
        servername: 'localhost',
        ca: options.caPem,
        cert: options.client.certPem,
        key: options.client.keyPem,
      });
      upstream.setNoDelay(true);
      socket.setNoDelay(true);
      upstream.on('error', () => socket.destroy());
      live.set(socket, { certificateId, upstream });
      const forget = (): void => {
        live.delete(socket);
        socket.destroy();
        upstream.destroy();
      };
      socket.on('close', forget);
      upstream.on('close', forget);
      socket.pipe(upstream).pipe(socket);
    },
  );
  // A handshake that fails (no certificate, another CA) is the client's problem, not the gate's.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    dropCertificate: (certificateId) => {
      for (const [socket, entry] of live) {
        if (entry.certificateId === certificateId) socket.destroy();
      }
    },
    close: async () => {
      for (const socket of live.keys()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
