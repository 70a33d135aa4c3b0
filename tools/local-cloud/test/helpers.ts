// Fixtures shared by this package's integration tests.
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import { registerLocalDevice } from '@thingcert/test-support';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { iot as iotSdk, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import { IdentityRegistry, type RoleSessionPrincipal } from '../src/iam/identity-registry';
import {
  startLocalCloud,
  type LocalCloud,
  type LocalCloudOptions,
  type PolicyDocument,
  type RoleSessionCredentials,
} from '../src/index';

const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'test-secret' };

/** A running cloud with real SDK clients pointed at it. */
export interface CloudFixture {
  cloud: LocalCloud;
  iot: IoTClient;
  s3: S3Client;
  ca: string;
  stop(): Promise<void>;
}

export async function startCloudFixture(options: LocalCloudOptions = {}): Promise<CloudFixture> {
  const cloud = await startLocalCloud(options);
  // Retries off so throttling and errors surface on the first answer.
  const iot = new IoTClient({
    endpoint: cloud.iotEndpoint,
    region: cloud.region,
    credentials,
    maxAttempts: 1,
  });
  const s3 = new S3Client({
    endpoint: cloud.s3Endpoint,
    region: cloud.region,
    credentials,
    maxAttempts: 1,
  });
  return {
    cloud,
    iot,
    s3,
    ca: readFileSync(cloud.mqtt.caPath, 'utf8'),
    stop: async () => {
      iot.destroy();
      s3.destroy();
      await cloud.stop();
    },
  };
}

/** A device identity: certificate, key and the ARN to attach things and policies to. */
export interface Device {
  certificateId: string;
  certificateArn: string;
  certificatePem: string;
  privateKey: string;
}

/**
 * Registers a certificate (ACTIVE unless `active: false`) with `statements` as
 * its policy, and optionally a thing: `registerLocalDevice` with this suite's
 * option names.
 */
export async function createDevice(
  iot: IoTClient,
  options: { statements?: object[]; thingName?: string; active?: boolean } = {},
): Promise<Device> {
  const { certificateId, certificateArn, certificatePem, privateKeyPem } =
    await registerLocalDevice(iot, {
      active: options.active,
      thingName: options.thingName,
      policyDocument:
        options.statements === undefined
          ? undefined
          : JSON.stringify({ Version: '2012-10-17', Statement: options.statements }),
    });
  return { certificateId, certificateArn, certificatePem, privateKey: privateKeyPem };
}

export const allowAll = [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }];

/** mqtt.js options for an mTLS MQTT 3.1.1 connection to the local broker. */
export function mqttOptions(
  fixture: CloudFixture,
  device: Device,
  clientId: string,
): IClientOptions {
  return {
    protocol: 'mqtts',
    host: '127.0.0.1',
    servername: 'localhost',
    port: fixture.cloud.mqtt.port,
    ca: fixture.ca,
    cert: device.certificatePem,
    key: device.privateKey,
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  };
}

/**
 * An aws-iot-device-sdk-v2 MQTT 3.1.1 connection over mTLS to the fixture's broker, reconnecting
 * after `reconnectSec` (long by default, so a test sees a drop before any reconnect).
 */
export function crtConnection(
  fixture: CloudFixture,
  device: Pick<Device, 'certificatePem' | 'privateKey'>,
  clientId: string,
  reconnectSec = 60,
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
    .with_reconnect_min_sec(reconnectSec)
    .with_reconnect_max_sec(reconnectSec)
    .build();
  return new crtMqtt.MqttClient().new_connection(config);
}

/** Connects with mqtt.js; resolves on CONNACK success, rejects on refusal or socket error. */
export function connectMqtt(options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(options);
    const fail = (error: Error) => {
      client.end(true);
      reject(error);
    };
    client.once('connect', () => {
      client.off('error', fail);
      client.off('close', onClose);
      resolve(client);
    });
    const onClose = () => fail(new Error('connection closed before CONNACK'));
    client.once('error', fail);
    client.once('close', onClose);
  });
}

/** Resolves when the client's connection closes. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/** Resolves with the next message on `topic`. */
export function nextMessage(client: MqttClient, topic: string): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      client.off('message', onMessage);
      resolve(payload.toString('utf8'));
    };
    client.on('message', onMessage);
  });
}

/** How an SDK call failed: error name, HTTP status and message. */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

/** SDK clients signing as one identity, over HTTP and over HTTPS (trusting the local CA). */
export interface IdentityClients {
  s3: S3Client;
  iot: IoTClient;
  s3Https: S3Client;
  iotHttps: IoTClient;
  destroy(): void;
}

/** Clients for `credentials` (a role session's, or any other) against the fixture's cloud. */
export function clientsFor(
  fixture: CloudFixture,
  credentials: Pick<RoleSessionCredentials, 'accessKeyId' | 'secretAccessKey'> & {
    sessionToken?: string;
  },
): IdentityClients {
  const { region } = fixture.cloud;
  const common = {
    region,
    maxAttempts: 1,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
  };
  const tls = { requestHandler: { httpsAgent: new Agent({ ca: fixture.ca }) } };
  const clients = {
    s3: new S3Client({ ...common, endpoint: fixture.cloud.s3Endpoint }),
    iot: new IoTClient({ ...common, endpoint: fixture.cloud.iotEndpoint }),
    s3Https: new S3Client({ ...common, ...tls, endpoint: fixture.cloud.s3HttpsEndpoint }),
    iotHttps: new IoTClient({ ...common, ...tls, endpoint: fixture.cloud.iotHttpsEndpoint }),
  };
  return {
    ...clients,
    destroy: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/** A role session's clients and credentials. */
export type RoleSessionClients = IdentityClients & { credentials: RoleSessionCredentials };

/**
 * A cloud for the IAM tests of one file: started before all its tests and stopped after them,
 * with every client made through it destroyed first.
 */
export function iamTestCloud(options: LocalCloudOptions = {}) {
  let started: CloudFixture | undefined;
  const opened: IdentityClients[] = [];
  beforeAll(async () => {
    started = await startCloudFixture(options);
  });
  afterAll(async () => {
    for (const clients of opened) clients.destroy();
    await started?.stop();
  });
  const fixture = (): CloudFixture => {
    if (started === undefined) throw new Error('the cloud starts in beforeAll');
    return started;
  };
  const clients = (credentials: Parameters<typeof clientsFor>[1]): IdentityClients => {
    const made = clientsFor(fixture(), credentials);
    opened.push(made);
    return made;
  };
  return {
    fixture,
    clients,
    /** Creates (or replaces) `roleName` with `policies` and signs in as a new session of it. */
    roleSession: async (
      roleName: string,
      policies: Record<string, PolicyDocument>,
    ): Promise<RoleSessionClients> => {
      await fixture().cloud.iam.putRole({ roleName, policies });
      const credentials = await fixture().cloud.iam.assumeRole({ roleName, sessionName: 'test' });
      return { ...clients(credentials), credentials };
    },
  };
}

/** The principal of a fresh session of a role allowed `statements` (for evaluator unit tests). */
export async function roleSessionPrincipal(statements: object[]): Promise<RoleSessionPrincipal> {
  const registry = new IdentityRegistry({ accountId: '000000000000', region: 'us-east-1' });
  await registry.putRole({
    roleName: 'r',
    policies: { P: { Version: '2012-10-17', Statement: statements } },
  });
  const { accessKeyId } = await registry.assumeRole({ roleName: 'r', sessionName: 's1' });
  const found = registry.lookup(accessKeyId);
  if (found.kind !== 'session') throw new Error('no session for the key just minted');
  return found.principal;
}
