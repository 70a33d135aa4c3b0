// Fixtures for the fleet provisioning integration tests: a device's CSR, the claim policy, and
// a claim connection that speaks the provisioning API through the device SDK's identity client.
import * as x509 from '@peculiar/x509';
import { iot as iotSdk, iotidentity, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import { webcrypto } from 'node:crypto';
import type { CloudFixture, Device } from './helpers';

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
  | { accepted: T; rejected?: undefined }
  | { accepted?: undefined; rejected: iotidentity.model.ErrorResponse };

type Waiter = (outcome: Outcome<unknown>) => void;

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
  createCertificateFromCsr(
    csrPem: string,
  ): Promise<Outcome<iotidentity.model.CreateCertificateFromCsrResponse>> {
    return this.request(
      'csr',
      async (handler) => {
        await this.identity.subscribeToCreateCertificateFromCsrAccepted(
          {},
          crtMqtt.QoS.AtLeastOnce,
          handler(true),
        );
        await this.identity.subscribeToCreateCertificateFromCsrRejected(
          {},
          crtMqtt.QoS.AtLeastOnce,
          handler(false),
        );
      },
      () =>
        this.identity.publishCreateCertificateFromCsr(
          { certificateSigningRequest: csrPem },
          crtMqtt.QoS.AtLeastOnce,
        ),
    );
  }

  /** CreateKeysAndCertificate over MQTT (the key is made by the cloud). */
  createKeysAndCertificate(): Promise<Outcome<iotidentity.model.CreateKeysAndCertificateResponse>> {
    return this.request(
      'keys',
      async (handler) => {
        await this.identity.subscribeToCreateKeysAndCertificateAccepted(
          {},
          crtMqtt.QoS.AtLeastOnce,
          handler(true),
        );
        await this.identity.subscribeToCreateKeysAndCertificateRejected(
          {},
          crtMqtt.QoS.AtLeastOnce,
          handler(false),
        );
      },
      () => this.identity.publishCreateKeysAndCertificate({}, crtMqtt.QoS.AtLeastOnce),
    );
  }

  /** RegisterThing through `templateName`. */
  registerThing(
    templateName: string,
    certificateOwnershipToken: string | undefined,
    parameters: Record<string, string>,
  ): Promise<Outcome<iotidentity.model.RegisterThingResponse>> {
    return this.request(
      `register:${templateName}`,
      async (handler) => {
        await this.identity.subscribeToRegisterThingAccepted(
          { templateName },
          crtMqtt.QoS.AtLeastOnce,
          handler(true),
        );
        await this.identity.subscribeToRegisterThingRejected(
          { templateName },
          crtMqtt.QoS.AtLeastOnce,
          handler(false),
        );
      },
      () =>
        this.identity.publishRegisterThing(
          { templateName, certificateOwnershipToken, parameters },
          crtMqtt.QoS.AtLeastOnce,
        ),
    );
  }

  async close(): Promise<void> {
    await this.connection.disconnect().catch(() => undefined);
  }

  /** Subscribes to the operation's replies once, then publishes and waits for the next reply. */
  private async request<T>(
    key: string,
    subscribe: (
      handler: (accepted: boolean) => (error?: unknown, response?: unknown) => void,
    ) => Promise<void>,
    publish: () => Promise<unknown>,
  ): Promise<Outcome<T>> {
    if (!this.subscribed.has(key)) {
      this.subscribed.add(key);
      await subscribe((accepted) => (_error, response) => {
        const waiter = this.waiters.get(key)?.shift();
        waiter?.(
          accepted
            ? { accepted: response }
            : { rejected: response as iotidentity.model.ErrorResponse },
        );
      });
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

/** An aws-iot-device-sdk-v2 MQTT 3.1.1 connection over mTLS to the local broker. */
export function crtConnection(
  fixture: CloudFixture,
  device: Pick<Device, 'certificatePem' | 'privateKey'>,
  clientId: string,
): crtMqtt.MqttClientConnection {
  const config = iotSdk.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(
    device.certificatePem,
    device.privateKey,
  )
    .with_certificate_authority(fixture.ca)
    .with_endpoint(fixture.cloud.mqtt.host)
    .with_port(fixture.cloud.mqtt.port)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_reconnect_min_sec(60)
    .with_reconnect_max_sec(60)
    .build();
  return new crtMqtt.MqttClient().new_connection(config);
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
