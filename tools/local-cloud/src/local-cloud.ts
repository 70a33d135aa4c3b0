import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CertificateAuthority } from './certificate-authority';
import { LocalCloudError } from './errors';
import { createFleetProvisioning, type LocalFleetProvisioning } from './fleet/fleet-provisioning';
import type { LambdaInvoker } from './fleet/pre-provisioning-hook';
import { provisioningRoleCheck } from './fleet/provisioning-role';
import { AccessEvaluator } from './iam/access-evaluator';
import { startAdminServer, type AdminEndpoint } from './iam/admin-server';
import { IdentityRegistry, type AdminCredentials } from './iam/identity-registry';
import type { LocalIam } from './iam/local-iam';
import { startIotControlPlane } from './iot-control-plane';
import { IotRegistry } from './iot-registry';
import { FaultInjector } from './fault-injection';
import { startMqttBroker } from './mqtt-broker';
import { startS3Server } from './s3-server';

/** Options for {@link startLocalCloud}. */
export interface LocalCloudOptions {
  /** AWS region used in ARNs and `env.AWS_REGION`. @default 'us-east-1' */
  region?: string;
  /** Account id used in ARNs. @default '000000000000' */
  accountId?: string;
  /** Port of the IoT control plane (HTTP). @default 0 (a free port) */
  iotPort?: number;
  /** Port of the S3 server (HTTP). @default 0 (a free port) */
  s3Port?: number;
  /** Port of the MQTT broker (mTLS). @default 0 (a free port) */
  mqttPort?: number;
  /** Port of the IoT control plane over HTTPS. @default 0 (a free port) */
  iotHttpsPort?: number;
  /** Port of S3 over HTTPS. @default 0 (a free port) */
  s3HttpsPort?: number;
  /** Port of the local IAM admin endpoint (loopback, bearer token). @default 0 (a free port) */
  adminPort?: number;
  /**
   * The admin identity, allowed everything. Given: only these access keys are the admin (their
   * signatures verified), and any other key that is not a registered session is refused as
   * unknown, as AWS would.
   * @default undefined: any access key id that is not of the `ASIA…` form `cloud.iam` mints is
   *   the admin, with any secret (the dummy credentials tests and people use)
   */
  adminCredentials?: AdminCredentials[];
  /**
   * Directory that keeps the registry, S3 objects and the CA across restarts
   * (created 0700; key files 0600).
   * @default undefined: state in memory, CA in a temporary directory removed by `stop()`
   */
  stateDir?: string;
  /**
   * Token-bucket throttling per IoT operation name, in requests per second
   * (burst = rate); excess calls get `ThrottlingException`. Keys `fleet:RegisterThing`,
   * `fleet:CreateCertificateFromCsr` and `fleet:CreateKeysAndCertificate` set the rates of the
   * device provisioning MQTT API, which are throttled by default at AWS's published rates.
   * @default {} (control plane not throttled; the provisioning MQTT API at 10 requests/s each)
   */
  throttle?: Partial<Record<string, number>>;
  /**
   * Runs a template's pre-provisioning hook: invokes a Lambda function by ARN and returns what
   * it returned. Can be set later with `cloud.fleetProvisioning.setLambdaInvoker`.
   * @default undefined: RegisterThing through a template with a hook is refused (AccessDenied),
   *   as AWS refuses it when the function cannot run
   */
  lambdaInvoker?: LambdaInvoker;
  /**
   * Epoch milliseconds now, for the one-hour certificate ownership tokens of fleet
   * provisioning (tests move it forward, then call `cloud.fleetProvisioning.expireOwnershipTokens()`).
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Accept CloudFormation's Conditions, `Condition`, `Fn::If`, `Fn::Equals`, `Fn::Not`,
   * `Fn::And`, `Fn::Or` and `AWS::NoValue` in provisioning templates. AWS's developer guide does
   * not list them for provisioning templates, so they are refused unless this is set.
   * @default false
   */
  provisioningTemplateConditions?: boolean;
  /**
   * A CONNECT for a client id within this many milliseconds of that id's last accepted CONNECT
   * is refused with CONNACK 3 (server unavailable), as AWS IoT allows one CONNECT per second per
   * client id. 0 disables the limit (e.g. to test a takeover by a second connection at once).
   * @default 1000
   */
  connectIntervalMs?: number;
  /** DetachThingPrincipal takes effect after this many milliseconds, as AWS's is asynchronous. @default 0 */
  detachDelayMs?: number;
  /** Write one JSON line per request (operation, status, latencyMs) to `log`. @default false */
  verbose?: boolean;
  /** Where log lines go; giving it turns logging on. @default stderr when `verbose` */
  log?: (line: string) => void;
}

/** A running local cloud. */
export interface LocalCloud {
  region: string;
  accountId: string;
  /** IoT control plane, e.g. `http://127.0.0.1:40123`. */
  iotEndpoint: string;
  /** S3, e.g. `http://127.0.0.1:40124` (path-style: the SDK uses it for IP endpoints). */
  s3Endpoint: string;
  /** The IoT control plane over HTTPS (certificate from the local CA, `caPath`). */
  iotHttpsEndpoint: string;
  /** S3 over HTTPS, e.g. `https://127.0.0.1:40126`: where `aws:SecureTransport` is true. */
  s3HttpsEndpoint: string;
  /**
   * PEM of the local CA that signs the HTTPS and MQTT server certificates: trust it with
   * `NODE_EXTRA_CA_CERTS` (a child process) or an explicit `https.Agent({ ca })`.
   */
  caPath: string;
  /**
   * Roles, their identity policies and sessions, KMS keys: the credentials S3 and the IoT
   * control plane authenticate, and the policies they enforce for them.
   */
  iam: LocalIam;
  /** The same IAM for another process: `connectLocalIam(cloud.admin)`. */
  admin: AdminEndpoint;
  /** What DescribeEndpoint answers: `localhost`, which the broker certificate covers. */
  dataEndpoint: string;
  /** The mTLS MQTT 3.1.1 broker. `caPath` is the PEM of the local CA that signs every certificate. */
  mqtt: { host: string; port: number; caPath: string };
  /**
   * `AWS_ENDPOINT_URL_IOT`, `AWS_ENDPOINT_URL_S3`, `AWS_REGION`, dummy
   * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `THINGCERT_MQTT_PORT`, `THINGCERT_CA_FILE`.
   */
  env: Record<string, string>;
  /**
   * Faults a test puts in place: a matched S3 or IoT request is answered with
   * an AWS error (a Deny, a 500) instead of being carried out.
   */
  faults: FaultInjector;
  /** Fleet provisioning: the Lambda invoker for pre-provisioning hooks, ownership token expiry. */
  fleetProvisioning: LocalFleetProvisioning;
  /** Drops every MQTT connection, closes the listener and listens again on the same port. */
  restartBroker(): Promise<void>;
  /** Waits until every delayed DetachThingPrincipal has taken effect. */
  settle(): Promise<void>;
  /** Stops all servers (and removes the temporary CA directory when there is no `stateDir`). */
  stop(): Promise<void>;
}

/** Internals `startMosquitto` needs; not part of the public API. */
export interface LocalCloudInternals {
  readonly ca: CertificateAuthority;
  readonly registry: IotRegistry;
  /**
   * Called with a certificate's id when it becomes unusable (it left ACTIVE
   * or was deleted), after the local broker dropped its connections: other
   * brokers in front of the same registry drop theirs too.
   */
  readonly certificateUnusable: Set<(certificateId: string) => void>;
}

/** Internals `startMosquitto` needs; not part of the public API. */
export const cloudInternals = new WeakMap<LocalCloud, LocalCloudInternals>();

/**
 * Starts the IoT control plane, S3 and the mTLS MQTT broker on loopback.
 * @example
 * ```ts
 * const cloud = await startLocalCloud();
 * try {
 *   const iot = new IoTClient({ endpoint: cloud.iotEndpoint, region: cloud.region });
 *   const { certificateId } = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
 * } finally {
 *   await cloud.stop();
 * }
 * ```
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const dataEndpoint = 'localhost';
  const log =
    options.log ??
    (options.verbose === true ? (line: string) => process.stderr.write(`${line}\n`) : undefined);
  const connectIntervalMs = options.connectIntervalMs ?? 1000;
  if (!Number.isFinite(connectIntervalMs) || connectIntervalMs < 0) {
    throw new LocalCloudError(`connectIntervalMs must be a number >= 0, got ${connectIntervalMs}`);
  }
  const stateDir = options.stateDir === undefined ? undefined : resolve(options.stateDir);
  const tempDir =
    stateDir === undefined ? await mkdtemp(join(tmpdir(), 'thingcert-local-cloud-')) : undefined;
  // The temp dir holds the CA's private key: it goes with stop(), and also if
  // the process exits without stop() (a second Ctrl-C, process.exit).
  const removeTempDirAtExit = (): void => {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  };
  process.once('exit', removeTempDirAtExit);
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    process.off('exit', removeTempDirAtExit);
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };
  try {
    const ca = await CertificateAuthority.open(join(stateDir ?? (tempDir as string), 'ca'));
    const registry = await IotRegistry.open(stateDir);
    const server = await ca.createServerCredentials();
    const evaluator = new AccessEvaluator(accountId, region);
    const identities = new IdentityRegistry({
      accountId,
      region,
      adminCredentials: options.adminCredentials,
      evaluator,
    });
    const admin = await startAdminServer(identities, { port: options.adminPort ?? 0, log });
    cleanups.push(() => admin.close());
    const tls = (port: number | undefined) => ({
      port: port ?? 0,
      certPem: server.certPem,
      keyPem: server.keyPem,
    });
    const arnPrefix = `arn:aws:iot:${region}:${accountId}`;
    const templateFeatures = { conditions: options.provisioningTemplateConditions === true };
    const fleet = createFleetProvisioning({
      registry,
      ca,
      arnPrefix,
      provisioningRole: provisioningRoleCheck({ identities, evaluator, accountId }),
      clock: options.clock ?? Date.now,
      throttle: options.throttle ?? {},
      templateFeatures,
      lambdaInvoker: options.lambdaInvoker,
      log,
    });
    cleanups.push(() => Promise.resolve(fleet.close()));
    const broker = await startMqttBroker({
      port: options.mqttPort ?? 0,
      region,
      accountId,
      registry,
      caPem: ca.certificatePem,
      serverCertPem: server.certPem,
      serverKeyPem: server.keyPem,
      connectIntervalMs,
      fleetProvisioning: fleet.api,
      log,
    });
    cleanups.push(() => broker.close());
    // What S3 and the IoT control plane share: where they are, and who may do what there.
    const faults = new FaultInjector();
    const certificateUnusable = new Set<(certificateId: string) => void>();
    const shared = { region, accountId, identities, evaluator, faults, log };
    const iot = await startIotControlPlane({
      ...shared,
      port: options.iotPort ?? 0,
      tls: tls(options.iotHttpsPort),
      dataEndpoint,
      registry,
      ca,
      throttle: options.throttle ?? {},
      detachDelayMs: options.detachDelayMs ?? 0,
      templateFeatures,
      onCertificateUnusable: (id) => {
        broker.dropCertificate(id);
        for (const listener of certificateUnusable) listener(id);
      },
    });
    cleanups.push(() => iot.close());
    const s3 = await startS3Server({
      ...shared,
      port: options.s3Port ?? 0,
      tls: tls(options.s3HttpsPort),
      stateDir,
    });
    cleanups.push(() => s3.close());

    const iotEndpoint = `http://127.0.0.1:${iot.port}`;
    const s3Endpoint = `http://127.0.0.1:${s3.port}`;
    let stopped: Promise<void> | undefined;
    const cloud: LocalCloud = {
      region,
      accountId,
      iotEndpoint,
      s3Endpoint,
      iotHttpsEndpoint: `https://127.0.0.1:${iot.tlsPort ?? 0}`,
      s3HttpsEndpoint: `https://127.0.0.1:${s3.tlsPort ?? 0}`,
      caPath: ca.certificatePath,
      iam: identities,
      admin: { endpoint: admin.endpoint, token: admin.token },
      dataEndpoint,
      mqtt: { host: dataEndpoint, port: broker.port, caPath: ca.certificatePath },
      env: {
        AWS_ENDPOINT_URL_IOT: iotEndpoint,
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: 'AKIALOCALCLOUD000000',
        AWS_SECRET_ACCESS_KEY: 'local-cloud-secret-access-key-not-a-secret',
        THINGCERT_MQTT_PORT: String(broker.port),
        THINGCERT_CA_FILE: ca.certificatePath,
      },
      faults,
      fleetProvisioning: fleet.controls,
      restartBroker: () => broker.restart(),
      settle: () => iot.settle(),
      stop: () => {
        stopped ??= registry.save().then(cleanup);
        return stopped;
      },
    };
    cloudInternals.set(cloud, { ca, registry, certificateUnusable });
    return cloud;
  } catch (error) {
    await cleanup();
    throw error instanceof LocalCloudError
      ? error
      : new LocalCloudError('local cloud failed to start', { cause: error });
  }
}
