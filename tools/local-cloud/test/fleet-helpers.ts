// Fixtures for the fleet provisioning integration tests: a device's CSR, the claim policy, and
// a claim connection that speaks the provisioning API through the device SDK's identity client.
import * as x509 from '@peculiar/x509';
import { iotidentity, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import { webcrypto } from 'node:crypto';
import { crtConnection, type CloudFixture, type Device } from './helpers';

const ARN = 'arn:aws:iot:us-east-1:000000000000';

/** A key made on the "device" (EC P-256) and the CSR that is all it sends. */
export interface DeviceKey {
  csrPem: string;
  privateKeyPem: string;
}

/** Makes an EC P-256 key pair and a CSR for it, as the device runner will. */
export async function makeDeviceKey(commonName = 'fleet-device'): Promise<DeviceKey> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: algorithm,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const base64 = pkcs8.toString('base64').match(/.{1,64}/g) ?? [];
  return {
    csrPem: csr.toString('pem'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${base64.join('\n')}\n-----END PRIVATE KEY-----\n`,
  };
}

/**
 * AWS's claim policy for provisioning by claim
 * (https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html#claim-based):
 * connect, and only the provisioning topics of one template.
 */
export function claimPolicy(templateName: string): object[] {
  const topics = [
    `$aws/certificates/create-from-csr/*`,
    `$aws/certificates/create/*`,
    `$aws/provisioning-templates/${templateName}/provision/*`,
  ];
  return [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['iot:Publish', 'iot:Receive'],
      Resource: topics.map((topic) => `${ARN}:topic/${topic}`),
    },
    {
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: topics.map((topic) => `${ARN}:topicfilter/${topic}`),
    },
  ];
}

/** A reply of the provisioning API: accepted with its payload, or rejected with the error. */
export type Outcome<T> =
  { accepted: T; rejected?: undefined } | { accepted?: undefined; rejected: ErrorResponse };

type Waiter = (outcome: Outcome<unknown>) => void;
type ErrorResponse = iotidentity.model.ErrorResponse;
type CsrResponse = iotidentity.model.CreateCertificateFromCsrResponse;
type KeysResponse = iotidentity.model.CreateKeysAndCertificateResponse;
/** Subscribes one reply topic with the identity client, calling `handler` with each reply. */
type Subscribe = (handler: (error?: unknown, response?: object) => void) => Promise<unknown>;
const QOS = crtMqtt.QoS.AtLeastOnce;

/**
 * An MQTT 3.1.1 connection of aws-iot-device-sdk-v2 with the claim certificate, and the SDK's
 * identity client (`iotidentity.IotIdentityClient`) on it, with each operation as a promise.
 */
export class ClaimSession {
  private readonly identity: iotidentity.IotIdentityClient;
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly subscribed = new Set<string>();

  private constructor(readonly connection: crtMqtt.MqttClientConnection) {
    this.identity = new iotidentity.IotIdentityClient(connection);
  }

  /** Connects with `device`'s certificate as `clientId`. */
  static async connect(
    fixture: CloudFixture,
    device: Pick<Device, 'certificatePem' | 'privateKey'>,
    clientId: string,
  ): Promise<ClaimSession> {
    const connection = crtConnection(fixture, device, clientId);
    await connection.connect();
    return new ClaimSession(connection);
  }

  /** CreateCertificateFromCsr over MQTT. */
  createCertificateFromCsr(csrPem: string): Promise<Outcome<CsrResponse>> {
    const id = this.identity;
    return this.request(
      'csr',
      [
        (h) => id.subscribeToCreateCertificateFromCsrAccepted({}, QOS, h),
        (h) => id.subscribeToCreateCertificateFromCsrRejected({}, QOS, h),
      ],
      () => id.publishCreateCertificateFromCsr({ certificateSigningRequest: csrPem }, QOS),
    );
  }

  /** CreateKeysAndCertificate over MQTT (the key is made by the cloud). */
  createKeysAndCertificate(): Promise<Outcome<KeysResponse>> {
    const id = this.identity;
    return this.request(
      'keys',
      [
        (h) => id.subscribeToCreateKeysAndCertificateAccepted({}, QOS, h),
        (h) => id.subscribeToCreateKeysAndCertificateRejected({}, QOS, h),
      ],
      () => id.publishCreateKeysAndCertificate({}, QOS),
    );
  }

  /** RegisterThing through `templateName`. */
  registerThing(
    templateName: string,
    certificateOwnershipToken: string | undefined,
    parameters: Record<string, string>,
  ): Promise<Outcome<iotidentity.model.RegisterThingResponse>> {
    const id = this.identity;
    const request = { templateName };
    return this.request(
      `register:${templateName}`,
      [
        (h) => id.subscribeToRegisterThingAccepted(request, QOS, h),
        (h) => id.subscribeToRegisterThingRejected(request, QOS, h),
      ],
      () => id.publishRegisterThing({ templateName, certificateOwnershipToken, parameters }, QOS),
    );
  }

  async close(): Promise<void> {
    await this.connection.disconnect().catch(() => undefined);
  }

  /**
   * Subscribes to the operation's accepted and rejected replies once (in that order), then
   * publishes the request and waits for the next reply.
   */
  private async request<T>(
    key: string,
    subscriptions: [Subscribe, Subscribe],
    publish: () => Promise<unknown>,
  ): Promise<Outcome<T>> {
    if (!this.subscribed.has(key)) {
      this.subscribed.add(key);
      const [onAccepted, onRejected] = subscriptions;
      const reply = (accepted: boolean) => (_error?: unknown, response?: unknown) =>
        this.waiters.get(key)?.shift()?.(
          accepted ? { accepted: response } : { rejected: response as ErrorResponse },
        );
      await onAccepted(reply(true));
      await onRejected(reply(false));
    }
    const reply = new Promise<Outcome<unknown>>((resolve) => {
      const queue = this.waiters.get(key) ?? [];
      queue.push(resolve);
      this.waiters.set(key, queue);
    });
    await publish();
    return (await withTimeout(reply, 15_000, `no reply to ${key}`)) as Outcome<T>;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
