import { S3ServiceError } from '../errors';
import type { AccessEvaluator, AccessRequest, Transport } from '../iam/access-evaluator';
import type { RoleSessionPrincipal } from '../iam/identity-registry';
import type { KmsKeyring } from '../iam/kms-keyring';
import { kmsAccessRequest } from '../iam/s3-access-requests';
import type { S3ObjectStore } from './object-store';

/** The object an SSE-KMS check is about. */
export interface EncryptedObject {
  bucket: string;
  key: string;
  /** `x-amz-server-side-encryption-bucket-key-enabled: true`: S3's encryption context is the bucket. */
  bucketKeyEnabled: boolean;
}

/**
 * What a handler asks about the caller of its request. For the admin every answer is yes; for a
 * role session it is AWS's policy evaluation (identity policies + the bucket policy, or the key
 * policy for KMS), decided before the handler changes anything.
 */
export interface S3Access {
  /** May the caller do it? */
  allows(request: AccessRequest): Promise<boolean>;
  /** @throws S3ServiceError `AccessDenied` (403) unless the caller may do it. */
  require(request: AccessRequest): Promise<void>;
  /**
   * The KMS permission SSE-KMS needs (`kms:GenerateDataKey` to write, `kms:Decrypt` to read) on
   * the key the object names (`keyReference`: key id, key ARN, alias; undefined: `aws/s3`).
   * @throws S3ServiceError `AccessDenied`, or `KMS.NotFoundException` for an unknown alias on write.
   */
  requireKms(
    action: 'kms:GenerateDataKey' | 'kms:Decrypt',
    keyReference: string | undefined,
    object: EncryptedObject,
  ): Promise<void>;
}

/** The admin's access: everything. */
export const ADMIN_ACCESS: S3Access = {
  allows: () => Promise.resolve(true),
  require: () => Promise.resolve(),
  requireKms: () => Promise.resolve(),
};

/** What {@link roleSessionAccess} needs. */
export interface RoleSessionAccessDeps {
  evaluator: AccessEvaluator;
  kms: KmsKeyring;
  store: S3ObjectStore;
  transport: Transport;
  region: string;
  accountId: string;
}

/** A role session's access, evaluated per question with its current policies. */
export function roleSessionAccess(
  principal: RoleSessionPrincipal,
  deps: RoleSessionAccessDeps,
): S3Access {
  const decide = async (request: AccessRequest) => {
    const withPolicy =
      request.resourcePolicy === undefined
        ? { ...request, resourcePolicy: bucketPolicyFor(deps.store, request.resource) }
        : request;
    return deps.evaluator.decide(principal, withPolicy, deps.transport);
  };
  const require = async (request: AccessRequest, deniedMessage?: string) => {
    const decision = await decide(request);
    if (!decision.allowed) {
      throw new S3ServiceError(
        'AccessDenied',
        403,
        deniedMessage ??
          `User: ${principal.assumedRoleArn} is not authorized to perform: ${request.action} on resource: "${request.resource}" ${decision.reason}`,
      );
    }
  };
  return {
    allows: async (request) => (await decide(request)).allowed,
    require: (request) => require(request),
    requireKms: async (action, keyReference, object) => {
      const key = deps.kms.resolve(keyReference);
      const unreadable =
        'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.';
      if (key === undefined) {
        if (action === 'kms:Decrypt') throw new S3ServiceError('AccessDenied', 403, unreadable);
        throw new S3ServiceError(
          'KMS.NotFoundException',
          400,
          `Invalid keyId '${keyReference ?? ''}'`,
        );
      }
      const request = kmsAccessRequest(action, key, object, deps);
      await require(request, action === 'kms:Decrypt' ? unreadable : undefined);
    },
  };
}

/** The policy of the bucket an S3 ARN names, if it exists and has one. */
function bucketPolicyFor(
  store: S3ObjectStore,
  resource: string,
): Record<string, unknown> | undefined {
  if (!resource.startsWith('arn:aws:s3:::')) return undefined;
  const path = resource.slice('arn:aws:s3:::'.length);
  const slash = path.indexOf('/');
  const bucket = slash === -1 ? path : path.slice(0, slash);
  return store.hasBucket(bucket) ? store.bucket(bucket).policy : undefined;
}
