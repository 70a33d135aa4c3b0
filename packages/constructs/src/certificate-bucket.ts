import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { InvalidConstructPropsError } from './errors';

/** Props of {@link CertificateBucket}. */
export interface CertificateBucketProps {
  /**
   * KMS key that encrypts every object (SSE-KMS with an S3 bucket key).
   *
   * @default a new symmetric key with yearly rotation, used by nothing else
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the bucket (and the key this construct creates) when it
   * leaves the stack. With `DESTROY`, CloudFormation can only delete the bucket
   * once it is empty, noncurrent versions included.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether S3 server access logs are written. When `false` cdk-nag reports
   * `AwsSolutions-S1` for you to acknowledge with your own reason.
   *
   * @default true
   */
  readonly serverAccessLogs?: boolean;

  /**
   * Bucket that receives the server access logs.
   *
   * @default a new private bucket for the access logs (SSE-S3, as S3 log
   *   delivery cannot write to SSE-KMS buckets)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * Key prefix of the access log objects.
   *
   * @default 'certificate-bucket/'
   */
  readonly serverAccessLogsPrefix?: string;

  /**
   * How long overwritten or deleted object versions (old certificates and
   * keys) are kept before S3 expires them.
   *
   * @default Duration.days(1)
   */
  readonly noncurrentVersionExpiration?: Duration;
}

/**
 * Private, versioned S3 bucket for device credentials: SSE-KMS with its own
 * key (rotation on), Block Public Access, TLS only, bucket-owner-enforced
 * ownership and server access logs.
 *
 * @example
 * const credentials = new CertificateBucket(stack, 'Credentials', {
 *   removalPolicy: RemovalPolicy.RETAIN,
 * });
 */
export class CertificateBucket extends Construct {
  /** The credentials bucket. */
  readonly bucket: s3.Bucket;
  /** The key every object is encrypted with. */
  readonly encryptionKey: kms.IKey;
  /** The bucket receiving server access logs, if logging is on. */
  readonly accessLogsBucket: s3.IBucket | undefined;

  constructor(scope: Construct, id: string, props: CertificateBucketProps = {}) {
    super(scope, id);
    // S3 log delivery must be allowed by bucket policy, not the LogDeliveryWrite
    // ACL, which bucket-owner-enforced ownership disables. Scoped to this
    // construct so it holds whatever flags the app sets.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const noncurrentVersionExpiration = props.noncurrentVersionExpiration ?? Duration.days(1);
    if (noncurrentVersionExpiration.toDays({ integral: false }) < 1) {
      throw new InvalidConstructPropsError('noncurrentVersionExpiration must be at least one day');
    }
    const logging = props.serverAccessLogs ?? true;
    if (!logging && props.serverAccessLogsBucket) {
      throw new InvalidConstructPropsError(
        'serverAccessLogsBucket was given but serverAccessLogs is false',
      );
    }

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `Encrypts device credentials in ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy,
      });

    this.accessLogsBucket = logging
      ? (props.serverAccessLogsBucket ?? this.createAccessLogsBucket(removalPolicy))
      : undefined;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: logging
        ? (props.serverAccessLogsPrefix ?? 'certificate-bucket/')
        : undefined,
      lifecycleRules: [
        {
          id: 'expire-old-credentials',
          noncurrentVersionExpiration,
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }

  /** Name of the credentials bucket. */
  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /** ARN of the credentials bucket. */
  get bucketArn(): string {
    return this.bucket.bucketArn;
  }

  /**
   * Lets `grantee` read exactly the given objects (`s3:GetObject` on each key
   * or key pattern, no listing) and decrypt them with the bucket key, through
   * S3 only.
   *
   * @param objectKeys full object keys, or a folder pattern ending in `*`
   *   (may be tokens, e.g. custom resource attributes)
   */
  grantReadObjects(grantee: iam.IGrantable, objectKeys: readonly string[]): iam.Grant {
    if (objectKeys.length === 0) {
      throw new InvalidConstructPropsError('grantReadObjects needs at least one object key');
    }
    const read = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: objectKeys.map((key) => this.bucket.arnForObjects(key)),
    });
    const decrypt = this.grantKeyUse(grantee, ['kms:Decrypt']);
    return read.combine(decrypt);
  }

  /**
   * Lets `grantee` use the bucket key for `actions`, only when S3 in this
   * stack's region calls KMS on its behalf (`kms:ViaService`).
   */
  grantKeyUse(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    for (const action of actions) {
      if (!/^kms:[A-Za-z]+$/.test(action)) {
        throw new InvalidConstructPropsError(`Not a single KMS action: ${action}`);
      }
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...actions],
      resourceArns: [this.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
      },
    });
  }

  private createAccessLogsBucket(removalPolicy: RemovalPolicy): s3.Bucket {
    const logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the access-log destination of the credentials bucket; logging its own accesses would recurse.',
    });
    return logs;
  }
}
