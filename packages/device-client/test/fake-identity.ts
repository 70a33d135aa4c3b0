import type { mqtt } from 'aws-iot-device-sdk-v2';
import type { ClaimChannel, ClaimIdentityApi } from '../src/claim-provisioning';

/** What the fake service answers to one request: a reply, or nothing at all. */
export type FakeReply =
  | { readonly accepted: true; readonly payload: object }
  | { readonly accepted: false; readonly payload: object }
  | 'no-reply'
  | 'interrupt';

type Operation = 'csr' | 'register';
type Handler = (error?: never, response?: object) => void;

/**
 * A fake of the SDK's identity client and its connection: it records each
 * request and answers it from `script` on the topic the real service would,
 * only when that topic was subscribed first (as AWS IoT does).
 */
export class FakeClaimChannel implements ClaimChannel {
  readonly requests: Array<{ operation: Operation; payload: Record<string, unknown> }> = [];
  readonly subscribeCalls: string[] = [];
  /** SUBACK return code the fake grants; 128 is a refusal. */
  grantedQos = 1;
  private readonly handlers = new Map<string, Handler>();
  private readonly interrupted = new Set<() => void>();

  constructor(
    private readonly script: (
      operation: Operation,
      payload: Record<string, unknown>,
      attempt: number,
    ) => FakeReply,
  ) {}

  readonly identity: ClaimIdentityApi = {
    subscribeToCreateCertificateFromCsrAccepted: (_request, _qos, handler) =>
      this.subscribe('csr/accepted', handler),
    subscribeToCreateCertificateFromCsrRejected: (_request, _qos, handler) =>
      this.subscribe('csr/rejected', handler),
    publishCreateCertificateFromCsr: (request) =>
      this.publish('csr', request as unknown as Record<string, unknown>),
    subscribeToRegisterThingAccepted: (_request, _qos, handler) =>
      this.subscribe('register/accepted', handler),
    subscribeToRegisterThingRejected: (_request, _qos, handler) =>
      this.subscribe('register/rejected', handler),
    publishRegisterThing: (request) =>
      this.publish('register', request as unknown as Record<string, unknown>),
  };

  onInterrupted(listener: () => void): () => void {
    this.interrupted.add(listener);
    return () => this.interrupted.delete(listener);
  }

  private async subscribe(topic: string, handler: Handler): Promise<mqtt.MqttSubscribeRequest> {
    this.subscribeCalls.push(topic);
    this.handlers.set(topic, handler);
    return { topic, qos: this.grantedQos as mqtt.QoS };
  }

  private async publish(
    operation: Operation,
    payload: Record<string, unknown>,
  ): Promise<mqtt.MqttRequest> {
    this.requests.push({ operation, payload });
    const attempt = this.requests.filter((request) => request.operation === operation).length;
    const reply = this.script(operation, payload, attempt);
    setImmediate(() => {
      if (reply === 'no-reply') return;
      if (reply === 'interrupt') {
        for (const listener of [...this.interrupted]) listener();
        return;
      }
      this.handlers.get(`${operation}/${reply.accepted ? 'accepted' : 'rejected'}`)?.(
        undefined,
        reply.payload,
      );
    });
    return {};
  }
}
