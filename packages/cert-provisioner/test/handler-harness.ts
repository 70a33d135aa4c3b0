/**
 * Drives the certificate resource handler the way CloudFormation does, over
 * the in-memory AWS of `fake-aws.ts`: events, a response recorder per test
 * (closed after each test by {@link closeRecorders}), and views of the bucket.
 */
import { DEVICE_CERTIFICATE_RESOURCE_TYPE, parseCredentialPointer } from '@thingcert/contracts';
import { randomUUID } from 'node:crypto';
import { startResponseRecorder, type ResponseRecorder } from '@thingcert/test-support';
import {
  createCertificateResourceHandler,
  type CertificateResourceHandlerOptions,
} from '../src/certificate-resource-handler';
import { requestMarkerFolder } from '../src/layout';
import { captureLogger, FakeAws, instantSleep, type FakeCertificate } from './fake-aws';

export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/devices/0f7a1b2c';
export const PROPS = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:cert',
  ThingName: 'sensor-1',
  BucketName: 'creds',
};
export const MARKERS = requestMarkerFolder({ thingName: 'sensor-1', bucketName: 'creds' });
export const RECORDS = 'sensor-1/.thingcert/certificates/';
export const POINTER = 'sensor-1/current.json';
/** Request markers and certificate records: bookkeeping beside the credentials. */
const BOOKKEEPING = '/.thingcert/';

/** One response CloudFormation received. */
export interface Response {
  Status: string;
  Reason?: string;
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

let recorders: ResponseRecorder[] = [];

/** Closes every recorder of the test; register with `afterEach(closeRecorders)`. */
export async function closeRecorders(): Promise<void> {
  await Promise.all(recorders.map((r) => r.close()));
  recorders = [];
}

/** A response recorder, closed by {@link closeRecorders}. */
export async function recorder(options?: Parameters<typeof startResponseRecorder>[0]) {
  const started = await startResponseRecorder(options);
  recorders.push(started);
  return started;
}

/** A handler over a fresh fake AWS, with a captured log and an instant sleep. */
export function setup(options: CertificateResourceHandlerOptions = {}) {
  const fake = new FakeAws();
  const log = captureLogger();
  const { sleep } = instantSleep();
  const handler = createCertificateResourceHandler(
    { iot: fake.iot, s3: fake.s3, sleep },
    { logger: log.logger, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, ...options },
  );
  return { fake, log, handler };
}

/** A Create of the `DeviceCertificate` resource, with `props` over {@link PROPS}. */
export function createEvent(responseUrl: string, props: Record<string, unknown> = {}) {
  return {
    RequestType: 'Create',
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: randomUUID(),
    ResourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
    LogicalResourceId: 'DeviceCertificate',
    ResourceProperties: { ...PROPS, ...props },
  };
}

/** An Update from `old` to `props` (each over {@link PROPS}). */
export function updateEvent(
  responseUrl: string,
  physicalId: string,
  old: Record<string, unknown>,
  props: Record<string, unknown>,
) {
  return {
    ...createEvent(responseUrl, props),
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    OldResourceProperties: { ...PROPS, ...old },
  };
}

/** A Delete of `physicalId`. */
export function deleteEvent(
  responseUrl: string,
  physicalId: string,
  props: Record<string, unknown> = {},
) {
  return {
    ...createEvent(responseUrl, props),
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
  };
}

/** The `count`th response the recorder accepted. */
export async function answer(rec: ResponseRecorder, count = 1): Promise<Response> {
  const accepted = await rec.waitForAccepted(count);
  return accepted[count - 1]!.json as Response;
}

/** Credential objects and pointers only: markers and records are bookkeeping, checked separately. */
export function credentialKeys(fake: FakeAws): string[] {
  return fake.keys().filter((key) => !key.includes(BOOKKEEPING));
}

/** Keys of the certificate records. */
export function recordKeys(fake: FakeAws): string[] {
  return fake.keys().filter((key) => key.startsWith(RECORDS));
}

/** The certificate the thing's pointer names, if any. */
export function pointedAt(fake: FakeAws, key = POINTER): string | undefined {
  const body = fake.object(key)?.body;
  return body === undefined ? undefined : parseCredentialPointer(body).certificateId;
}

/** Every log line and response body, for secret scans. */
export function allText(log: { text(): string }, rec: ResponseRecorder): string {
  return [log.text(), ...rec.requests.map((r) => r.rawBody.toString('utf8'))].join('\n');
}

/**
 * Writes the record of a certificate made elsewhere into sensor-1's folder,
 * as a provisioner would have: `fields` add to or override the identity.
 */
export function seedRecord(
  fake: FakeAws,
  certificate: FakeCertificate,
  fields: Record<string, unknown>,
): void {
  fake.seed(
    `${RECORDS}${certificate.id}.json`,
    JSON.stringify({
      version: 1,
      certificateId: certificate.id,
      certificateArn: certificate.arn,
      stackId: STACK_ID,
      ...fields,
    }),
  );
}
