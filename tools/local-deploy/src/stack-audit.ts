import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import {
  type IoTClient,
  DescribeCertificateCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  parseCredentialPointer,
  type CredentialPointer,
} from '@thingcert/contracts';
import type { DeployedResource } from './resource-provider';

/**
 * Bookkeeping the provisioner keeps beside the credentials and that may
 * outlive a certificate: request markers (a failed request keeps its
 * tombstone so a late duplicate cannot create a certificate CloudFormation no
 * longer tracks) and end marks (a Delete that beat its Create). Neither holds
 * key material. A certificate's record (`.thingcert/certificates/<id>.json`)
 * is not in this list: it must exist exactly for the certificates the stack
 * holds.
 */
const BOOKKEEPING_KEY = /(^|\/)\.thingcert\/(requests|ended)\/[^/]+\.json$/;
const RECORD_KEY = /(^|\/)\.thingcert\/certificates\/([^/]+)\.json$/;

/** One certificate as the local IoT registry has it. */
export interface IotCertificateState {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly status: string;
  /** Things the certificate is attached to (`ListPrincipalThings`). */
  readonly things: readonly string[];
  /** Policies attached to it (`ListAttachedPolicies`). */
  readonly policies: readonly string[];
}

/** One object of an audited bucket, read only as far as the audit needs. */
export interface AuditedObject {
  readonly bucket: string;
  readonly key: string;
  /** For a certificate PEM: the SHA-256 of its DER (what AWS IoT calls the certificate id). */
  readonly certificateSha256?: string;
  /** For a pointer object: its parsed body (`undefined` if it is not one). */
  readonly pointer?: CredentialPointer;
  /**
   * For a private key: whether it is the key of the certificate in the same
   * folder (the key itself never leaves the collector).
   */
  readonly pairsWithCertificate?: boolean;
  /** For a public key: whether it is the public key of the certificate in the same folder. */
  readonly matchesCertificate?: boolean;
}

/** What the local cloud holds, read by {@link collectCloudState}. */
export interface CloudState {
  readonly certificates: readonly IotCertificateState[];
  /** Every thing in the registry with its principals (certificate ARNs). */
  readonly things: ReadonlyMap<string, readonly string[]>;
  /** Every object of the audited buckets. */
  readonly objects: readonly AuditedObject[];
}

/** A certificate custom resource CloudFormation holds, with what the stack says about it. */
interface HeldCertificate {
  readonly logicalId: string;
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly thingName: string;
  readonly bucket: string;
  readonly keys: {
    readonly certificate: string;
    readonly publicKey: string;
    readonly privateKey: string;
    readonly pointer: string;
  };
}

function heldCertificates(resources: Iterable<DeployedResource>): HeldCertificate[] {
  const held: HeldCertificate[] = [];
  for (const resource of resources) {
    if (resource.type !== DEVICE_CERTIFICATE_RESOURCE_TYPE) continue;
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    const { attributes, properties } = resource;
    held.push({
      logicalId: resource.logicalId,
      certificateId: resource.physicalId,
      certificateArn: text(attributes.CertificateArn),
      thingName: text(properties.ThingName),
      bucket: text(properties.BucketName),
      keys: {
        certificate: text(attributes.CertificateObjectKey),
        publicKey: text(attributes.PublicKeyObjectKey),
        privateKey: text(attributes.PrivateKeyObjectKey),
        pointer: text(attributes.CredentialPointerObjectKey),
      },
    });
  }
  return held;
}

function physicalIds(resources: Iterable<DeployedResource>, type: string): Set<string> {
  return new Set([...resources].filter((r) => r.type === type).map((r) => r.physicalId));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * Compares what CloudFormation holds with what the local cloud holds and
 * returns every difference, one line each (empty when they agree):
 *
 * - exactly the certificates the stack's certificate custom resources name
 *   exist, each ACTIVE, attached to its thing and only to it, with only the
 *   stack's policies (at least one);
 * - every thing of the stack has exactly the certificates the stack holds for it;
 * - each certificate's three objects and the thing's pointer exist in the
 *   bucket and agree: the PEM's SHA-256 is the id, the keys pair with it, the
 *   pointer names it and its objects;
 * - no other object is in the stack's buckets but the provisioner's
 *   bookkeeping (request markers and end marks; see `BOOKKEEPING_KEY`) and
 *   one record per held certificate;
 * - with `online`, each thing's device is online with the certificate the
 *   stack holds for it.
 *
 * Pure: the cloud is read by {@link collectCloudState}.
 */
export function auditStackState(options: {
  readonly resources: Iterable<DeployedResource>;
  readonly cloud: CloudState;
  /** The certificate each device is online with now, by thing name (`undefined`: offline). */
  readonly online?: ReadonlyMap<string, string | undefined>;
}): string[] {
  const resources = [...options.resources];
  const { cloud } = options;
  const held = heldCertificates(resources);
  const stackThings = physicalIds(resources, 'AWS::IoT::Thing');
  const stackPolicies = physicalIds(resources, 'AWS::IoT::Policy');
  const findings: string[] = [];

  const inIot = new Map(cloud.certificates.map((c) => [c.certificateId, c]));
  for (const certificate of held) {
    const found = inIot.get(certificate.certificateId);
    const name = `${certificate.logicalId} (${certificate.certificateId})`;
    if (!found) {
      findings.push(`${name}: held by the stack, not in IoT`);
      continue;
    }
    if (found.status !== 'ACTIVE') findings.push(`${name}: ${found.status}, not ACTIVE`);
    if (!sameSet(found.things, [certificate.thingName]))
      findings.push(
        `${name}: attached to things [${found.things.join(', ')}], not [${certificate.thingName}]`,
      );
    const foreign = found.policies.filter((policy) => !stackPolicies.has(policy));
    if (found.policies.length === 0 || foreign.length > 0)
      findings.push(`${name}: policies [${found.policies.join(', ')}], expected the stack's`);
  }
  const heldIds = new Set(held.map((c) => c.certificateId));
  for (const certificate of cloud.certificates)
    if (!heldIds.has(certificate.certificateId))
      findings.push(
        `certificate ${certificate.certificateId} (${certificate.status}) exists; the stack does not hold it`,
      );

  for (const [thing, principals] of cloud.things) {
    if (!stackThings.has(thing)) {
      findings.push(`thing ${thing} exists; the stack does not hold it`);
      continue;
    }
    const expected = held.filter((c) => c.thingName === thing).map((c) => c.certificateArn);
    if (!sameSet(principals, expected))
      findings.push(
        `thing ${thing}: principals [${principals.join(', ')}], expected [${expected.join(', ')}]`,
      );
  }
  for (const thing of stackThings)
    if (!cloud.things.has(thing)) findings.push(`thing ${thing}: held by the stack, not in IoT`);

  findings.push(...auditObjects(held, cloud.objects));

  if (options.online) {
    for (const certificate of held) {
      const device = options.online.get(certificate.thingName);
      if (device !== certificate.certificateId)
        findings.push(
          `device ${certificate.thingName}: ${device ? `online with ${device}` : 'not online'}, the stack holds ${certificate.certificateId}`,
        );
    }
  }
  return findings;
}

function auditObjects(
  held: readonly HeldCertificate[],
  objects: readonly AuditedObject[],
): string[] {
  const findings: string[] = [];
  const byKey = new Map(objects.map((o) => [`${o.bucket}/${o.key}`, o]));
  const expected = new Set<string>();
  for (const certificate of held) {
    const name = `${certificate.logicalId} (${certificate.certificateId})`;
    const at = (key: string) => {
      expected.add(`${certificate.bucket}/${key}`);
      return byKey.get(`${certificate.bucket}/${key}`);
    };
    const pem = at(certificate.keys.certificate);
    const publicKey = at(certificate.keys.publicKey);
    const privateKey = at(certificate.keys.privateKey);
    const pointer = at(certificate.keys.pointer);
    if (!pem) findings.push(`${name}: certificate object ${certificate.keys.certificate} missing`);
    else if (pem.certificateSha256 !== certificate.certificateId)
      findings.push(
        `${name}: certificate object ${pem.key} holds ${pem.certificateSha256 ?? 'no certificate'}`,
      );
    if (!publicKey)
      findings.push(`${name}: public key object ${certificate.keys.publicKey} missing`);
    else if (publicKey.matchesCertificate !== true)
      findings.push(`${name}: public key object ${publicKey.key} is not the certificate's`);
    if (!privateKey)
      findings.push(`${name}: private key object ${certificate.keys.privateKey} missing`);
    else if (privateKey.pairsWithCertificate !== true)
      findings.push(
        `${name}: private key object ${privateKey.key} does not pair with the certificate`,
      );
    if (!pointer) findings.push(`${name}: pointer ${certificate.keys.pointer} missing`);
    else if (
      pointer.pointer?.certificateId !== certificate.certificateId ||
      pointer.pointer.certificateArn !== certificate.certificateArn ||
      pointer.pointer.objects.certificate !== certificate.keys.certificate ||
      pointer.pointer.objects.publicKey !== certificate.keys.publicKey ||
      pointer.pointer.objects.privateKey !== certificate.keys.privateKey
    )
      findings.push(
        `${name}: pointer ${pointer.key} names ${pointer.pointer?.certificateId ?? 'nothing valid'}`,
      );
  }
  const heldIds = new Set(held.map((c) => c.certificateId));
  for (const object of objects) {
    if (expected.has(`${object.bucket}/${object.key}`) || BOOKKEEPING_KEY.test(object.key))
      continue;
    const record = RECORD_KEY.exec(object.key);
    if (record && heldIds.has(record[2]!)) continue;
    findings.push(
      `object s3://${object.bucket}/${object.key} belongs to no certificate the stack holds`,
    );
  }
  return findings;
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await got.Body?.transformToString('utf8')) ?? '';
}

function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/** What the audit learns from one object's body (none of it key material). */
async function inspectObject(
  s3: S3Client,
  bucket: string,
  key: string,
  certificateIn: (folder: string) => Promise<X509Certificate | undefined>,
): Promise<AuditedObject> {
  if (key.endsWith('.json') && !BOOKKEEPING_KEY.test(key) && !RECORD_KEY.test(key)) {
    try {
      return { bucket, key, pointer: parseCredentialPointer(await readText(s3, bucket, key)) };
    } catch {
      return { bucket, key };
    }
  }
  if (!key.endsWith('.pem.crt') && !key.endsWith('.pem.key')) return { bucket, key };
  const certificate = await certificateIn(folderOf(key));
  if (key.endsWith('.pem.crt')) {
    return {
      bucket,
      key,
      certificateSha256: certificate
        ? createHash('sha256').update(certificate.raw).digest('hex')
        : undefined,
    };
  }
  const body = await readText(s3, bucket, key);
  if (!certificate) return { bucket, key };
  if (body.includes('PRIVATE KEY')) {
    let pairs = false;
    try {
      pairs = certificate.checkPrivateKey(createPrivateKey(body));
    } catch {
      // Not a key at all: it does not pair.
    }
    return { bucket, key, pairsWithCertificate: pairs };
  }
  let matches = false;
  try {
    const exported = (k: ReturnType<typeof createPublicKey>) =>
      k.export({ type: 'spki', format: 'der' }).toString('base64');
    matches = exported(createPublicKey(body)) === exported(certificate.publicKey);
  } catch {
    // Not a public key: it does not match.
  }
  return { bucket, key, matchesCertificate: matches };
}

/**
 * Reads what the audit compares from the local cloud: every certificate with
 * its things and policies, every thing with its principals, and every object
 * of `buckets` (certificate PEMs hashed, keys checked against the certificate
 * of their folder, pointers parsed; no key material is kept).
 */
export async function collectCloudState(
  iot: IoTClient,
  s3: S3Client,
  buckets: Iterable<string>,
): Promise<CloudState> {
  const certificates: IotCertificateState[] = [];
  const listed = await iot.send(new ListCertificatesCommand({}));
  for (const { certificateId, certificateArn } of listed.certificates ?? []) {
    const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
    const things = await iot.send(new ListPrincipalThingsCommand({ principal: certificateArn }));
    const policies = await iot.send(new ListAttachedPoliciesCommand({ target: certificateArn }));
    certificates.push({
      certificateId: certificateId!,
      certificateArn: certificateArn!,
      status: described.certificateDescription?.status ?? 'UNKNOWN',
      things: things.things ?? [],
      policies: (policies.policies ?? []).map((p) => p.policyName!),
    });
  }
  const things = new Map<string, string[]>();
  for (const thing of (await iot.send(new ListThingsCommand({}))).things ?? []) {
    const principals = await iot.send(
      new ListThingPrincipalsCommand({ thingName: thing.thingName }),
    );
    things.set(thing.thingName!, principals.principals ?? []);
  }
  const objects: AuditedObject[] = [];
  for (const bucket of buckets) {
    const pems = new Map<string, Promise<X509Certificate | undefined>>();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    const certificateIn = (folder: string) => {
      const key = keys.find((k) => folderOf(k) === folder && k.endsWith('.pem.crt'));
      if (!key) return Promise.resolve(undefined);
      if (!pems.has(key))
        pems.set(
          key,
          readText(s3, bucket, key)
            .then((pem) => new X509Certificate(pem))
            .catch(() => undefined),
        );
      return pems.get(key)!;
    };
    for (const key of keys) objects.push(await inspectObject(s3, bucket, key, certificateIn));
  }
  return { certificates, things, objects };
}

/**
 * {@link collectCloudState} for the stack's buckets, then {@link auditStackState}.
 *
 * @returns every difference between what CloudFormation holds and the local
 *   cloud, one line each; empty when they agree.
 */
export async function auditStack(options: {
  readonly iot: IoTClient;
  readonly s3: S3Client;
  readonly resources: Iterable<DeployedResource>;
  readonly online?: ReadonlyMap<string, string | undefined>;
}): Promise<string[]> {
  const resources = [...options.resources];
  const cloud = await collectCloudState(
    options.iot,
    options.s3,
    physicalIds(resources, 'AWS::S3::Bucket'),
  );
  return auditStackState({ resources, cloud, online: options.online });
}
