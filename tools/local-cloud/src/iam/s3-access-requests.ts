import type { IncomingHttpHeaders } from 'node:http';
import type { AccessRequest } from './access-evaluator';
import type { KmsKey } from './kms-keyring';

// The S3 rows of the Service Authorization Reference ("Actions, resources, and condition keys for
// Amazon S3", https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html)
// and the S3 user guide's "Required permissions for Amazon S3 API operations"
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).

/** Request headers that are S3 condition keys of PutObject, under the same name. */
const PUT_OBJECT_HEADER_KEYS = [
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-storage-class',
  'x-amz-acl',
  'if-none-match',
  'if-match',
];

/** What the condition keys of an S3 request are made of. */
export interface S3RequestFacts {
  operation: string;
  bucket: string;
  key: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Header-signed or presigned; undefined for the admin (unverified). */
  style: 'header' | 'query' | undefined;
  signatureAgeMs: number | undefined;
  /** `TLSv1.3` etc. over HTTPS. */
  tlsProtocol: string | undefined;
  accountId: string;
}

/**
 * The IAM checks an S3 request needs before anything happens, by operation. DeleteObjects has
 * none of its own (each key needs `s3:DeleteObject`, checked per key); the SSE-KMS check of
 * PutObject comes from {@link kmsAccessRequest}.
 */
export function s3AccessRequests(facts: S3RequestFacts): AccessRequest[] {
  const common = s3CommonContext(facts);
  const bucketArn = `arn:aws:s3:::${facts.bucket}`;
  const objectArn = `${bucketArn}/${facts.key}`;
  const on = (
    action: string,
    resource: string,
    extra: Record<string, string> = {},
  ): AccessRequest[] => [{ action, resource, context: { ...common, ...extra } }];
  switch (facts.operation) {
    case 'ListBuckets':
      return on('s3:ListAllMyBuckets', '*');
    case 'CreateBucket':
      return on('s3:CreateBucket', bucketArn);
    case 'HeadBucket':
      return on('s3:ListBucket', bucketArn);
    case 'DeleteBucket':
      return on('s3:DeleteBucket', bucketArn);
    case 'ListObjectsV2': {
      const extra: Record<string, string> = {};
      for (const [param, key] of [
        ['prefix', 's3:prefix'],
        ['delimiter', 's3:delimiter'],
        ['max-keys', 's3:max-keys'],
      ] as const) {
        const value = facts.query.get(param);
        if (value !== null) extra[key] = value;
      }
      return on('s3:ListBucket', bucketArn, extra);
    }
    case 'PutObject': {
      const extra: Record<string, string> = {};
      for (const header of PUT_OBJECT_HEADER_KEYS) {
        const value = facts.headers[header];
        if (typeof value === 'string') extra[`s3:${header}`] = value;
      }
      return on('s3:PutObject', objectArn, extra);
    }
    case 'GetObject':
    case 'HeadObject':
      return on('s3:GetObject', objectArn);
    case 'DeleteObject':
      return on('s3:DeleteObject', objectArn);
    case 'PutBucketPolicy':
    case 'GetBucketPolicy':
    case 'DeleteBucketPolicy':
      return on(`s3:${facts.operation}`, bucketArn);
    default:
      return [];
  }
}

/** The condition keys every S3 request carries (`s3:authType`, `s3:TlsVersion`...). */
export function s3CommonContext(facts: S3RequestFacts): Record<string, string> {
  const context: Record<string, string> = {
    's3:ResourceAccount': facts.accountId,
    's3:signatureversion': 'AWS4-HMAC-SHA256',
  };
  if (facts.style !== undefined) {
    context['s3:authType'] = facts.style === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING';
  }
  if (facts.signatureAgeMs !== undefined) context['s3:signatureAge'] = String(facts.signatureAgeMs);
  const sha = facts.headers['x-amz-content-sha256'];
  if (typeof sha === 'string') context['s3:x-amz-content-sha256'] = sha;
  const tls = /^TLSv(\d\.\d)$/.exec(facts.tlsProtocol ?? '')?.[1];
  if (tls !== undefined) context['s3:TlsVersion'] = tls;
  return context;
}

/**
 * The KMS call S3 makes for the principal to write (`kms:GenerateDataKey`) or read
 * (`kms:Decrypt`) an SSE-KMS object: on the key's ARN, with `kms:ViaService =
 * s3.<region>.amazonaws.com`, `kms:CallerAccount` and S3's encryption context (the bucket ARN
 * with an S3 Bucket Key, the object ARN without), evaluated against the key policy.
 */
export function kmsAccessRequest(
  action: 'kms:GenerateDataKey' | 'kms:Decrypt',
  key: KmsKey,
  object: { bucket: string; key: string; bucketKeyEnabled: boolean },
  where: { region: string; accountId: string },
): AccessRequest {
  const bucketArn = `arn:aws:s3:::${object.bucket}`;
  return {
    action,
    resource: key.keyArn,
    resourcePolicy: key.keyPolicy,
    viaService: true,
    context: {
      'kms:ViaService': `s3.${where.region}.amazonaws.com`,
      'kms:CallerAccount': where.accountId,
      'kms:EncryptionContext:aws:s3:arn': object.bucketKeyEnabled
        ? bucketArn
        : `${bucketArn}/${object.key}`,
      'kms:EncryptionContextKeys': ['aws:s3:arn'],
    },
  };
}
