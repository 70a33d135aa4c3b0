import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LifecycleActionReference, LifecycleActions } from './lifecycle-actions';

/** The Auto Scaling API version the query protocol names. */
const API_VERSION = '2011-01-01';
const XMLNS = `http://autoscaling.amazonaws.com/doc/${API_VERSION}/`;

/** The environment variable the AWS SDKs read Auto Scaling's endpoint from. */
export const AUTO_SCALING_ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_AUTO_SCALING';

/** An answer of the endpoint: HTTP status and XML body. */
interface QueryAnswer {
  readonly status: number;
  readonly body: string;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorAnswer(status: number, code: string, message: string): QueryAnswer {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return {
    status,
    body: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

function emptyAnswer(action: string): QueryAnswer {
  return {
    status: 200,
    body: `<${action}Response xmlns="${XMLNS}"><${action}Result/><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/**
 * The part of Amazon EC2 Auto Scaling's query API
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/) a fleet's
 * functions call, on loopback: `CompleteLifecycleAction` and
 * `RecordLifecycleActionHeartbeat`, form-encoded POSTs answered in XML as
 * the SDK's `awsQuery` protocol expects. An unsigned request is refused
 * (`MissingAuthenticationToken`, 403); signatures are not verified (the
 * caller holds the local cloud's credentials anyway). Any other action →
 * `InvalidAction` 400; an action that matches no waiting instance →
 * `ValidationError` 400, AWS's "No active Lifecycle Action found with token …".
 * The stack's functions get its URL as `AWS_ENDPOINT_URL_AUTO_SCALING`.
 */
export class AutoScalingEndpoint {
  private server: Server | undefined;
  private url = '';

  constructor(private readonly actions: LifecycleActions) {}

  /** The endpoint URL (`http://127.0.0.1:<port>`); empty before {@link start}. */
  get endpoint(): string {
    return this.url;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = this.answer(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
    });
  }

  private answer(req: IncomingMessage, body: string): QueryAnswer {
    if (req.method !== 'POST')
      return errorAnswer(400, 'InvalidAction', 'Only POST requests are emulated locally');
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return errorAnswer(
        403,
        'MissingAuthenticationToken',
        'Request is missing Authentication Token',
      );
    const form = Object.fromEntries(new URLSearchParams(body));
    const { Action: action } = form;
    const reference: LifecycleActionReference = form;
    try {
      switch (action) {
        case 'CompleteLifecycleAction': {
          const result = form.LifecycleActionResult;
          if (result !== 'CONTINUE' && result !== 'ABANDON')
            return errorAnswer(
              400,
              'ValidationError',
              'LifecycleActionResult must be CONTINUE or ABANDON',
            );
          this.actions.complete(reference, result);
          return emptyAnswer(action);
        }
        case 'RecordLifecycleActionHeartbeat':
          this.actions.heartbeat(reference);
          return emptyAnswer(action);
        default:
          return errorAnswer(
            400,
            'InvalidAction',
            `The action ${action ?? '(none)'} is not valid for this web service (emulated: CompleteLifecycleAction, RecordLifecycleActionHeartbeat).`,
          );
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'AutoScalingValidationError')
        return errorAnswer(400, 'ValidationError', error.message);
      return errorAnswer(
        500,
        'InternalFailure',
        error instanceof Error ? error.message : String(error),
      );
    }
  }
}
