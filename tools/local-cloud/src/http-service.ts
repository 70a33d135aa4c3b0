import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LocalCloudError } from './errors';

/** A running loopback HTTP server, and its HTTPS twin when it has one. */
export interface HttpService {
  port: number;
  /** Port of the HTTPS listener (same handler), when TLS was asked for. */
  tlsPort?: number;
  close(): Promise<void>;
}

/** Thrown by {@link readBody} when a body exceeds the limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** An HTTPS listener beside the HTTP one: port, and the server certificate and key (PEM). */
export interface TlsListenerOptions {
  port: number;
  certPem: string;
  keyPem: string;
}

/** Whether a request came over TLS (`aws:SecureTransport`), and with which protocol version. */
export function requestTls(req: IncomingMessage): {
  secure: boolean;
  protocol: string | undefined;
} {
  const socket = req.socket as TLSSocket;
  if (socket.encrypted !== true) return { secure: false, protocol: undefined };
  return { secure: true, protocol: socket.getProtocol() ?? undefined };
}

/**
 * Starts an HTTP server on 127.0.0.1 (and an HTTPS one when `tls` is given) that tracks its
 * sockets, so `close()` ends keep-alive connections too instead of waiting for them to idle out.
 */
export async function startHttpService(
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onUnexpected: (error: unknown) => void,
  tls?: TlsListenerOptions,
): Promise<HttpService> {
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((error: unknown) => {
      onUnexpected(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error in local-cloud');
    });
  };
  const plain = await listen(createServer(listener), port);
  if (tls === undefined) return plain;
  const secure = await listen(
    createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, listener),
    tls.port,
  ).catch(async (error: unknown) => {
    await plain.close();
    throw error;
  });
  return {
    port: plain.port,
    tlsPort: secure.port,
    close: async () => {
      await Promise.all([plain.close(), secure.close()]);
    },
  };
}

function listen(server: Server, port: number): Promise<HttpService> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(new LocalCloudError(`cannot listen on 127.0.0.1:${port}`, { cause: error })),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}

/** Reads a whole request body, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

/** One structured log line: JSON, so it can be grepped and parsed. */
export function requestLogLine(fields: Record<string, string | number | undefined>): string {
  return JSON.stringify(fields);
}
