import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { LocalCloudError } from '../errors';

/** What {@link TlsListeners} needs. */
export interface TlsListenersOptions {
  /** Port to listen on; 0 picks a free one, kept for later `open()` calls. */
  port: number;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** Called with each connection that passed the mTLS handshake. */
  onSecureConnection: (socket: TLSSocket) => void;
  log: (fields: Record<string, string | number | undefined>) => void;
}

/**
 * The broker's mTLS listeners on 127.0.0.1 and, when the machine has it, ::1
 * (on the same port), with every socket tracked so they can be cut at once.
 */
export class TlsListeners {
  private servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private currentPort: number;

  constructor(private readonly options: TlsListenersOptions) {
    this.currentPort = options.port;
  }

  /** The port listened on (known after the first `open()`). */
  get port(): number {
    return this.currentPort;
  }

  /**
   * Listens on 127.0.0.1, then on ::1 if it can.
   * @throws LocalCloudError when 127.0.0.1 cannot be used.
   */
  async open(): Promise<void> {
    const ipv4 = this.makeServer();
    try {
      this.currentPort = await listen(ipv4, '127.0.0.1', this.currentPort);
    } catch (error) {
      throw new LocalCloudError(`MQTT broker cannot listen on 127.0.0.1:${this.currentPort}`, {
        cause: error,
      });
    }
    this.servers = [ipv4];
    // Clients given `localhost` may try ::1 first (aws-crt does): answer there too when we can.
    const ipv6 = this.makeServer();
    try {
      await listen(ipv6, '::1', this.currentPort);
      this.servers.push(ipv6);
    } catch (error) {
      this.options.log({ event: 'ipv6-unavailable', error: String(error) });
    }
  }

  /** Stops accepting connections; resolves once every listener has closed. */
  stopAccepting(): Promise<void> {
    const closing = this.servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    this.servers = [];
    return Promise.all(closing).then(() => undefined);
  }

  /** Cuts every open connection (a listener closes only once they are gone). */
  destroySockets(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private makeServer(): Server {
    const server = createTlsServer({
      key: this.options.serverKeyPem,
      cert: this.options.serverCertPem,
      ca: [this.options.caPem],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    server.on('secureConnection', (socket) => {
      this.track(socket);
      this.options.onSecureConnection(socket);
    });
    server.on('connection', (socket: Socket) => this.track(socket));
    // Garbage, plain TCP and unknown certificates end here: log and carry on.
    server.on('tlsClientError', (error) =>
      this.options.log({ event: 'tls-error', error: error.message }),
    );
    return server;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

function listen(server: Server, host: string, wanted: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ port: wanted, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
