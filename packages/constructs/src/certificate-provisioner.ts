import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { provisionerBundleDirectory } from './bundle-directories';
import type { CertificateBucket } from './certificate-bucket';
import { InvalidConstructPropsError } from './errors';

/** Props of {@link CertificateProvisioner}. */
export interface CertificateProvisionerProps {
  /** Bucket the provisioner writes device credentials to. */
  readonly bucket: CertificateBucket;

  /**
   * Code of the provisioner Lambda (handler `index.handler`).
   *
   * @default the `@thingcert/cert-provisioner` bundle (`dist/lambda`)
   */
  readonly code?: lambda.Code;

  /**
   * Lambda timeout. A Delete waits for AWS IoT to finish detaching the thing
   * (asynchronous, "several seconds") before it can delete the certificate, and
   * retries throttled calls, so keep headroom.
   *
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;

  /**
   * Lambda memory in MiB (also buys CPU for key generation in CSR mode).
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Retention of the Lambda's log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log group when it leaves the stack.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Longest Lambda timeout AWS allows. */
const MAX_LAMBDA_TIMEOUT = Duration.minutes(15);

/**
 * The Lambda behind every {@link DeviceCertificate} of a stack: one function
 * (Node.js 22, arm64) from the `@thingcert/cert-provisioner` bundle, with IAM
 * scoped to what each call supports. IoT calls that have no resource-level
 * permissions get `*`; certificate calls get `cert/*`; S3 access covers the
 * credentials bucket, which holds nothing else; KMS only on the bucket key.
 *
 * Why bucket-scoped S3 access and not one grant per thing folder: its IAM
 * must never change when devices do. CloudFormation updates an IAM policy in
 * the update phase but deletes a removed, renamed or re-prefixed certificate
 * resource later, in cleanup; a per-folder grant would already be gone and
 * that Delete would fail with AccessDenied, leaving the private key in the
 * bucket. A per-certificate `AWS::IAM::Policy` would be deleted after its
 * resource on removal, but updated in place (before the cleanup Delete) on a
 * rename or `keyPrefix` change, with the same failure. The bucket is
 * dedicated to device credentials, every object in it is written by this
 * Lambda, and it already holds every private key it stores: scoping it to
 * folders bought no confidentiality, only the failure.
 *
 * Use {@link CertificateProvisioner.forBucket} to share one instance per bucket.
 *
 * @example
 * const credentials = new CertificateBucket(stack, 'Credentials');
 * const provisioner = CertificateProvisioner.forBucket(credentials);
 * new DeviceCertificate(stack, 'Cert', { provisioner, thingName: 'sensor-1' });
 */
export class CertificateProvisioner extends Construct {
  /**
   * The provisioner of `bucket`, created (as a child of the bucket construct)
   * on first use, so that every certificate of the bucket shares one Lambda.
   * `props` apply only to that first call.
   */
  static forBucket(
    bucket: CertificateBucket,
    props: Omit<CertificateProvisionerProps, 'bucket'> = {},
  ): CertificateProvisioner {
    // A child of the bucket: one per bucket, in the bucket's stack.
    const id = 'Provisioner';
    const existing = bucket.node.tryFindChild(id);
    if (existing instanceof CertificateProvisioner) {
      return existing;
    }
    return new CertificateProvisioner(bucket, id, { ...props, bucket });
  }

  /** The provisioner Lambda. */
  readonly function: lambda.Function;
  /** Its execution role. */
  readonly role: iam.Role;
  /** The credentials bucket it writes to. */
  readonly bucket: CertificateBucket;
  /** Lambda timeout (custom resources wait longer than this). */
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: CertificateProvisionerProps) {
    super(scope, id);
    this.bucket = props.bucket;
    this.timeout = props.timeout ?? Duration.minutes(5);
    if (
      this.timeout.toSeconds() < 60 ||
      this.timeout.toSeconds() > MAX_LAMBDA_TIMEOUT.toSeconds()
    ) {
      throw new InvalidConstructPropsError(
        `timeout must be between 1 and 15 minutes (got ${this.timeout.toHumanString()})`,
      );
    }

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // Our own role: the default one would carry the AWSLambdaBasicExecutionRole
    // managed policy (logs on every log group of the account).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'thingcert certificate provisioner',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );

    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IotCallsWithoutResourceLevelPermissions',
        actions: [
          'iot:CreateKeysAndCertificate',
          'iot:CreateCertificateFromCsr',
          'iot:DescribeEndpoint',
          'iot:ListPrincipalThings',
          'iot:ListAttachedPolicies',
        ],
        resources: ['*'],
      }),
    );
    const certificateArns = stack.formatArn({
      service: 'iot',
      resource: 'cert',
      resourceName: '*',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManageCertificates',
        actions: [
          'iot:DescribeCertificate',
          'iot:UpdateCertificate',
          'iot:DeleteCertificate',
          'iot:DetachPolicy',
        ],
        resources: [certificateArns],
      }),
    );
    this.bucket.grantKeyUse(this.role, ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt']);
    // The same statements whatever devices the stack has (see the class TSDoc):
    // a certificate's Delete in cleanup runs with the IAM of the new template.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManageCredentialObjects',
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [this.bucket.bucket.arnForObjects('*')],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListCredentialObjects',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    const bucketLogicalId = stack.getLogicalId(
      this.bucket.bucket.node.defaultChild as s3.CfnBucket,
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
      reason:
        'The credentials bucket holds only what this Lambda writes (every certificate, key, pointer and record); its grant must not change when devices are removed or renamed, or their Delete in cleanup is denied.',
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'iot:CreateKeysAndCertificate, CreateCertificateFromCsr, DescribeEndpoint, ListPrincipalThings and ListAttachedPolicies support no resource-level permissions; every other action is scoped.',
    });
    // cdk-nag names the finding after the ARN as rendered: pseudo parameters
    // as <AWS::X>, concrete values (a stack with an explicit env) as they are.
    const rendered = (value: string, pseudo: string): string =>
      Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${rendered(stack.partition, 'Partition')}:iot:${rendered(stack.region, 'Region')}:${rendered(stack.account, 'AccountId')}:cert/*]`,
      reason:
        'Certificate ids are generated by AWS IoT at create time, so the provisioner can only be scoped to the certificates of this account and region.',
    });

    this.function = new lambda.Function(this, 'Function', {
      description: 'thingcert: creates, rotates and deletes AWS IoT device certificates',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code ?? lambda.Code.fromAsset(provisionerBundleDirectory()),
      timeout: this.timeout,
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The provisioner bundle and the AWS SDK v3 releases it pins target Node.js 22; nodejs22.x is supported until 2027.',
    });
  }

  /** Token for the `ServiceToken` of custom resources (the Lambda's ARN). */
  get serviceToken(): string {
    return this.function.functionArn;
  }

  /**
   * Checks that `thingPrefix` (e.g. `devices/sensor-1/`) is a folder. The
   * provisioner's S3 access covers the whole credentials bucket, so nothing
   * is granted per folder any more.
   *
   * @deprecated The grant is bucket-scoped (see the class TSDoc); kept so
   *   existing callers still compile.
   */
  allowThingPrefix(thingPrefix: string): void {
    if (!thingPrefix.endsWith('/') || thingPrefix.startsWith('/')) {
      throw new InvalidConstructPropsError(`Not a thing prefix: ${JSON.stringify(thingPrefix)}`);
    }
  }
}
