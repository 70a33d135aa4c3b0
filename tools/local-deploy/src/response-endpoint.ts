import type { CustomResourceResponse } from '@thingcert/cfn-response';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The custom-resource response CloudFormation would have received. */
export type CustomResourceAnswer = CustomResourceResponse;

interface Pending {
  resolve(answer: CustomResourceAnswer): void;
  answered: boolean;
}

/**
 * Plays CloudFormation's side of the response protocol: hands out one
 * pre-signed-style URL per request, accepts the PUT, and checks it as
 * CloudFormation does (JSON, 4096 bytes max, required fields, one answer).
 */
export class ResponseEndpoint {
  private readonly pending = new Map<string, Pending>();
  /** Answers that arrived for a request that was already answered. */
  readonly duplicates: string[] = [];
  private server: Server | undefined;
  private base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const token = new URL(req.url ?? '/', 'http://x').pathname.split('/').pop() ?? '';
        const waiting = this.pending.get(token);
        const body = Buffer.concat(chunks);
        if (req.method !== 'PUT' || !waiting) {
          res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
          return;
        }
        if (waiting.answered) {
          this.duplicates.push(token);
          res.writeHead(200).end();
          return;
        }
        const problem = validate(body);
        if (typeof problem === 'string') {
          res.writeHead(400).end(problem);
          return;
        }
        waiting.answered = true;
        res.writeHead(200).end();
        waiting.resolve(problem);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A fresh response URL and a promise of its answer. */
  expectAnswer(): { url: string; answer: Promise<CustomResourceAnswer> } {
    const token = randomUUID();
    const answer = new Promise<CustomResourceAnswer>((resolve) => {
      this.pending.set(token, { resolve, answered: false });
    });
    return { url: `${this.base}/cloudformation-response/${token}?X-Amz-Signature=local`, answer };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

function validate(body: Buffer): CustomResourceAnswer | string {
  if (body.length > 4096) return `response is ${body.length} bytes; the limit is 4096`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'response is not JSON';
  }
  const answer = parsed as Partial<CustomResourceAnswer>;
  if (answer.Status !== 'SUCCESS' && answer.Status !== 'FAILED')
    return 'Status must be SUCCESS or FAILED';
  if (!answer.PhysicalResourceId) return 'PhysicalResourceId is required';
  if (answer.Status === 'FAILED' && !answer.Reason) return 'Reason is required when FAILED';
  return answer as CustomResourceAnswer;
}
