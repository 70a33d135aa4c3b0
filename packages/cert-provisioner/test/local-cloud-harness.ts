/**
 * The world of the integration tests: a local cloud, a response recorder, the
 * BUNDLED Lambda (dist/lambda/index.mjs, built by the `test` target's
 * dependency on `build`) imported as Lambda would, real SDK clients over
 * loopback, and the console lines the handler logs (for secret scans).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  DescribeCertificateCommand,
  IoTClient,
  ListCertificatesCommand,
} from '@aws-sdk/client-iot';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { LambdaHandler } from '@thingcert/cfn-response';
import {
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  parseCredentialPointer,
  type CredentialPointer,
} from '@thingcert/contracts';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import {
  findSecretLeaks,
  startResponseRecorder,
  type ResponseRecorder,
} from '@thingcert/test-support';
import { afterAll, beforeAll, expect, vi } from 'vitest';

export const BUNDLE = fileURLToPath(new URL('../dist/lambda/index.mjs', import.meta.url));
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:000000000000:stack/devices/5b1e';
export const BUCKET = 'device-creds';

/** One response CloudFormation received. */
export interface Response {
  Status: string;
  Reason?: string;
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

/**
 * Everything an integration test talks to, and the questions it asks of it.
 * {@link useWorld} starts one per test file.
 */
export class World {
  /** What the handler logged to the console. */
  readonly logLines: string[] = [];

  private constructor(
    readonly cloud: LocalCloud,
    readonly recorder: ResponseRecorder,
    readonly handler: LambdaHandler,
    readonly iot: IoTClient,
    readonly s3: S3Client,
  ) {}

  /** Starts the world; the bundle builds its clients from the cloud's env at import. */
  static async start(): Promise<World> {
    const cloud = await startLocalCloud({ detachDelayMs: 300 });
    const recorder = await startResponseRecorder();
    Object.assign(process.env, cloud.env);
    const handler = ((await import(BUNDLE)) as { handler: LambdaHandler }).handler;
    const config = {
      region: cloud.region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    };
    const world = new World(
      cloud,
      recorder,
      handler,
      new IoTClient({ ...config, endpoint: cloud.iotEndpoint }),
      new S3Client({ ...config, endpoint: cloud.s3Endpoint, forcePathStyle: true }),
    );
    await world.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const keep = (...args: unknown[]) => void world.logLines.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(keep);
    vi.spyOn(console, 'error').mockImplementation(keep);
    return world;
  }

  /** Stops what {@link World.start} started. */
  async stop(): Promise<void> {
    vi.restoreAllMocks();
    await this.recorder.close();
    await this.cloud.stop();
  }

  /** A CloudFormation event of the `DeviceCertificate` resource, answered to the recorder. */
  event(
    type: 'Create' | 'Update' | 'Delete',
    props: Record<string, string>,
    extra: Record<string, unknown> = {},
  ) {
    return {
      RequestType: type,
      ResponseURL: this.recorder.responseUrl(),
      StackId: STACK_ID,
      RequestId: randomUUID(),
      ResourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
      LogicalResourceId: 'DeviceCertificate',
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:cert',
        BucketName: BUCKET,
        ...props,
      },
      ...extra,
    };
  }

  /** Invokes `handler` (the bundle by default) in this process; returns the one response it sent. */
  async invoke(
    e: ReturnType<World['event']>,
    handler: LambdaHandler = this.handler,
  ): Promise<Response> {
    const before = this.recorder.accepted().length;
    await handler(e, { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 60_000 });
    const accepted = this.recorder.accepted();
    expect(accepted.length).toBe(before + 1);
    return accepted[before]!.json as Response;
  }

  /** Every certificate in the account, sorted. */
  async certificateIds(): Promise<string[]> {
    const out = await this.iot.send(new ListCertificatesCommand({}));
    return (out.certificates ?? []).map((c) => c.certificateId!).sort();
  }

  /** The status of one certificate. */
  async statusOf(certificateId: string): Promise<string | undefined> {
    const out = await this.iot.send(new DescribeCertificateCommand({ certificateId }));
    return out.certificateDescription?.status;
  }

  /** Keys under `prefix`, sorted. */
  async keys(prefix = ''): Promise<string[]> {
    const out = await this.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).map((c) => c.Key!).sort();
  }

  /** One object's body. */
  async read(key: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return (await out.Body?.transformToString()) ?? '';
  }

  /** Writes one object, as something other than the provisioner would. */
  async plant(key: string, body: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  }

  /** The thing's pointer, or `undefined` when it has none. */
  async pointerOf(thing: string): Promise<CredentialPointer | undefined> {
    const key = `${thing}/current.json`;
    if (!(await this.keys(key)).includes(key)) return undefined;
    return parseCredentialPointer(await this.read(key));
  }

  /** Lines of the logs and every response body that look like key material. */
  leaks(): string[] {
    return findSecretLeaks(
      [...this.logLines, ...this.recorder.requests.map((r) => r.rawBody.toString())].join('\n'),
    );
  }
}

/**
 * Starts a {@link World} before the file's tests and stops it after; the
 * returned object is filled in by then.
 */
export function useWorld(): World {
  const holder = {} as { world?: World };
  beforeAll(async () => {
    holder.world = await World.start();
  });
  afterAll(async () => {
    await holder.world?.stop();
  });
  return new Proxy({} as World, {
    get: (_target, property) => {
      const world = holder.world;
      if (!world) throw new Error('The world starts in beforeAll');
      const value = Reflect.get(world, property, world) as unknown;
      return typeof value === 'function'
        ? (value as (...args: never[]) => unknown).bind(world)
        : value;
    },
  });
}

/** The three object keys of a certificate's Data. */
export function objectsOf(response: Response): string[] {
  const data = response.Data ?? {};
  return [data['CertificateObjectKey'], data['PrivateKeyObjectKey'], data['PublicKeyObjectKey']]
    .filter((key): key is string => key !== undefined)
    .sort();
}
