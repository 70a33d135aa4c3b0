/**
 * A stateful in-memory stand-in for the slice of AWS IoT and S3 the provisioner
 * uses, behind aws-sdk-client-mock, with fault injection per call. Tests assert
 * on its state (certificates, objects) rather than on call sequences alone.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export interface FakeCertificate {
  id: string;
  arn: string;
  pem: string;
  status: 'ACTIVE' | 'INACTIVE' | 'REVOKED';
  things: string[];
  policies: string[];
  /** ListPrincipalThings answers with `things` this many more times after a detach. */
  detachLag: number;
}

export interface FakeObject {
  body: string;
  etag: string;
  contentType: string | undefined;
  sse: string | undefined;
  kmsKeyId: string | undefined;
}

type Fault = { kind: 'error'; error: Error } | { kind: 'hang' };

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com';

/** An SDK-shaped service error (name + $metadata), as the SDK would throw it. */
export function awsError(name: string, status: number, message = `${name} (injected)`): Error {
  return Object.assign(new Error(message), {
    name,
    $metadata: { httpStatusCode: status },
    $fault: 'client',
  });
}

export class FakeAws {
  readonly iot = new IoTClient({ region: REGION });
  readonly s3 = new S3Client({ region: REGION });
  readonly certificates = new Map<string, FakeCertificate>();
  readonly buckets = new Map<string, Map<string, FakeObject>>();
  /** Every call in order, as `Command` names without the suffix. */
  readonly calls: string[] = [];
  /** The input of every call, in order, beside {@link calls}. */
  private readonly inputs: Array<{ name: string; input: unknown }> = [];
  /** Every private key handed out or stored, to scan logs for leaks. */
  readonly secrets: string[] = [];
  /** Page size of ListObjectsV2, small to exercise pagination. */
  listPageSize = 2;
  private readonly faults = new Map<string, Fault>();
  private readonly counts = new Map<string, number>();
  private readonly hung: Array<() => void> = [];

  constructor(bucketNames: string[] = ['creds']) {
    for (const name of bucketNames) this.buckets.set(name, new Map());
    this.answerIot(mockClient(this.iot));
    this.answerS3(mockClient(this.s3));
  }

  /** Wraps one fake operation: records and counts the call, applies its fault, then answers. */
  private route<I>(name: string, handler: (input: I) => unknown) {
    return async (input: I) => {
      this.calls.push(name);
      this.inputs.push({ name, input });
      const n = (this.counts.get(name) ?? 0) + 1;
      this.counts.set(name, n);
      const fault = this.faults.get(`${name}#${n}`) ?? this.faults.get(`${name}#*`);
      if (fault?.kind === 'error') throw fault.error;
      if (fault?.kind === 'hang') await new Promise<void>((resolve) => this.hung.push(resolve));
      // Let concurrent callers interleave as they would over the network.
      await new Promise((resolve) => setImmediate(resolve));
      return handler(input);
    };
  }

  /** The IoT control-plane operations, over {@link certificates}. */
  private answerIot(iot: AwsClientStub<IoTClient>): void {
    iot
      .on(DescribeEndpointCommand)
      .callsFake(this.route('DescribeEndpoint', () => ({ endpointAddress: ENDPOINT })));
    iot.on(CreateKeysAndCertificateCommand).callsFake(
      this.route('CreateKeysAndCertificate', () => {
        const cert = this.newCertificate();
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const PrivateKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        this.secrets.push(PrivateKey);
        return {
          certificateId: cert.id,
          certificateArn: cert.arn,
          certificatePem: cert.pem,
          keyPair: {
            PrivateKey,
            PublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          },
        };
      }),
    );
    iot.on(CreateCertificateFromCsrCommand).callsFake(
      this.route('CreateCertificateFromCsr', (input: { certificateSigningRequest?: string }) => {
        if (!input.certificateSigningRequest?.includes('BEGIN CERTIFICATE REQUEST')) {
          throw awsError('InvalidRequestException', 400, 'not a CSR');
        }
        const cert = this.newCertificate();
        return { certificateId: cert.id, certificateArn: cert.arn, certificatePem: cert.pem };
      }),
    );
    iot.on(DescribeCertificateCommand).callsFake(
      this.route('DescribeCertificate', (input: { certificateId: string }) => {
        const cert = this.certificate(input.certificateId);
        return {
          certificateDescription: {
            certificateId: cert.id,
            certificateArn: cert.arn,
            certificatePem: cert.pem,
            status: cert.status,
          },
        };
      }),
    );
    iot.on(UpdateCertificateCommand).callsFake(
      this.route(
        'UpdateCertificate',
        (input: { certificateId: string; newStatus: FakeCertificate['status'] }) => {
          this.certificate(input.certificateId).status = input.newStatus;
          return {};
        },
      ),
    );
    iot.on(DeleteCertificateCommand).callsFake(
      this.route('DeleteCertificate', (input: { certificateId: string; forceDelete?: boolean }) => {
        const cert = this.certificate(input.certificateId);
        if (cert.status === 'ACTIVE') throw awsError('CertificateStateException', 406);
        if (cert.things.length > 0)
          throw awsError('DeleteConflictException', 409, 'things attached');
        if (cert.policies.length > 0 && !input.forceDelete)
          throw awsError('DeleteConflictException', 409);
        this.certificates.delete(cert.id);
        return {};
      }),
    );
    iot.on(ListPrincipalThingsCommand).callsFake(
      this.route('ListPrincipalThings', (input: { principal: string; nextToken?: string }) => {
        const cert = [...this.certificates.values()].find((c) => c.arn === input.principal);
        if (!cert) throw awsError('ResourceNotFoundException', 404);
        if (cert.things.length > 0 && cert.detachLag > 0) {
          cert.detachLag--;
          if (cert.detachLag === 0) cert.things = [];
        }
        // Two pages when there is more than one thing, to exercise nextToken.
        if (!input.nextToken && cert.things.length > 1) {
          return { things: cert.things.slice(0, 1), nextToken: 'page-2' };
        }
        return { things: input.nextToken ? cert.things.slice(1) : cert.things };
      }),
    );
    iot.on(ListAttachedPoliciesCommand).callsFake(
      this.route('ListAttachedPolicies', (input: { target: string }) => {
        const cert = [...this.certificates.values()].find((c) => c.arn === input.target);
        return { policies: (cert?.policies ?? []).map((policyName) => ({ policyName })) };
      }),
    );
    iot.on(DetachPolicyCommand).callsFake(
      this.route('DetachPolicy', (input: { policyName: string; target: string }) => {
        const cert = [...this.certificates.values()].find((c) => c.arn === input.target);
        if (!cert || !cert.policies.includes(input.policyName))
          throw awsError('ResourceNotFoundException', 404);
        cert.policies = cert.policies.filter((p) => p !== input.policyName);
        return {};
      }),
    );
  }

  /** The S3 operations, over {@link buckets}. */
  private answerS3(s3: AwsClientStub<S3Client>): void {
    s3.on(PutObjectCommand).callsFake(
      this.route(
        'PutObject',
        (input: {
          Bucket: string;
          Key: string;
          Body: string;
          ContentType?: string;
          IfNoneMatch?: string;
          IfMatch?: string;
          ServerSideEncryption?: string;
          SSEKMSKeyId?: string;
        }) => {
          const bucket = this.bucket(input.Bucket);
          const existing = bucket.get(input.Key);
          if (input.IfNoneMatch === '*' && existing) throw awsError('PreconditionFailed', 412);
          if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch) {
            throw awsError(existing ? 'PreconditionFailed' : 'NoSuchKey', existing ? 412 : 404);
          }
          const etag = `"${createHash('md5').update(input.Body).digest('hex')}"`;
          if (input.Key.endsWith('.key') || input.Key.endsWith('.crt')) {
            if (input.Body.includes('PRIVATE KEY')) this.secrets.push(input.Body);
          }
          bucket.set(input.Key, {
            body: input.Body,
            etag,
            contentType: input.ContentType,
            sse: input.ServerSideEncryption,
            kmsKeyId: input.SSEKMSKeyId,
          });
          return { ETag: etag };
        },
      ),
    );
    s3.on(GetObjectCommand).callsFake(
      this.route('GetObject', (input: { Bucket: string; Key: string }) => {
        const object = this.bucket(input.Bucket).get(input.Key);
        if (!object) throw awsError('NoSuchKey', 404);
        return {
          ETag: object.etag,
          ContentType: object.contentType,
          ...(object.sse ? { ServerSideEncryption: object.sse } : {}),
          ...(object.kmsKeyId ? { SSEKMSKeyId: object.kmsKeyId } : {}),
          Body: { transformToString: () => Promise.resolve(object.body) },
        };
      }),
    );
    s3.on(ListObjectsV2Command).callsFake(
      this.route(
        'ListObjectsV2',
        (input: { Bucket: string; Prefix?: string; ContinuationToken?: string }) => {
          const keys = [...this.bucket(input.Bucket).keys()]
            .filter((key) => key.startsWith(input.Prefix ?? ''))
            .sort();
          const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
          const page = keys.slice(start, start + this.listPageSize);
          const more = start + this.listPageSize < keys.length;
          return {
            Contents: page.map((Key) => ({ Key })),
            IsTruncated: more,
            ...(more ? { NextContinuationToken: String(start + this.listPageSize) } : {}),
          };
        },
      ),
    );
    s3.on(DeleteObjectsCommand).callsFake(
      this.route(
        'DeleteObjects',
        (input: { Bucket: string; Delete: { Objects: Array<{ Key: string }> } }) => {
          const bucket = this.bucket(input.Bucket);
          for (const { Key } of input.Delete.Objects) bucket.delete(Key);
          return { Deleted: input.Delete.Objects };
        },
      ),
    );
  }

  /** The nth call (1-based; `'*'` for every call) of `command` fails with `error`. */
  failOn(command: string, error: Error, nth: number | '*' = 1): this {
    this.faults.set(`${command}#${nth}`, { kind: 'error', error });
    return this;
  }

  /** Lifts every fault set on `command` (the calls succeed again). */
  liftFaults(command: string): this {
    for (const key of [...this.faults.keys()]) {
      if (key.startsWith(`${command}#`)) this.faults.delete(key);
    }
    return this;
  }

  /** The nth call of `command` never answers until {@link releaseHung}. */
  hangOn(command: string, nth: number | '*' = 1): this {
    this.faults.set(`${command}#${nth}`, { kind: 'hang' });
    return this;
  }

  /** Lets hung calls continue. */
  releaseHung(): void {
    for (const release of this.hung.splice(0)) release();
  }

  /** The inputs `command` was called with, in order. */
  inputsOf(command: string): unknown[] {
    return this.inputs.filter((call) => call.name === command).map((call) => call.input);
  }

  /** How often `command` was called. */
  count(command: string): number {
    return this.counts.get(command) ?? 0;
  }

  /** Keys in a bucket, sorted. */
  keys(bucketName = 'creds'): string[] {
    return [...this.bucket(bucketName).keys()].sort();
  }

  object(key: string, bucketName = 'creds'): FakeObject | undefined {
    return this.bucket(bucketName).get(key);
  }

  /** Adds a certificate as if made elsewhere; returns it. */
  newCertificate(): FakeCertificate {
    const der = randomBytes(300);
    const id = createHash('sha256').update(der).digest('hex');
    const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
    const cert: FakeCertificate = {
      id,
      arn: `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${id}`,
      pem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
      status: 'ACTIVE',
      things: [],
      policies: [],
      detachLag: 0,
    };
    this.certificates.set(id, cert);
    return cert;
  }

  /** Puts an object directly, bypassing faults and the call log. */
  seed(key: string, body: string, bucketName = 'creds'): void {
    this.bucket(bucketName).set(key, {
      body,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      contentType: 'text/plain',
      sse: undefined,
      kmsKeyId: undefined,
    });
  }

  private certificate(id: string): FakeCertificate {
    const cert = this.certificates.get(id);
    if (!cert) throw awsError('ResourceNotFoundException', 404, `certificate ${id} not found`);
    return cert;
  }

  private bucket(name: string): Map<string, FakeObject> {
    const bucket = this.buckets.get(name);
    if (!bucket) throw awsError('NoSuchBucket', 404);
    return bucket;
  }
}

/** A logger that keeps every line as JSON text, for leak scans and assertions. */
export function captureLogger(): {
  lines: string[];
  text(): string;
  logger: {
    info(message: string, fields?: Record<string, unknown>): void;
    warn(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
  };
} {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(JSON.stringify({ level, message, ...fields }));
  return {
    lines,
    text: () => lines.join('\n'),
    logger: { info: write('INFO'), warn: write('WARN'), error: write('ERROR') },
  };
}

/** A sleep that returns at once and records what was asked. */
export function instantSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms: number) => {
      delays.push(ms);
      return new Promise((resolve) => setImmediate(resolve));
    },
  };
}
