import {
  DeleteBucketPolicyCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { templateOrGeneratedName } from '../physical-names';
import {
  runStep,
  type ResourceProvider,
  type ResourceRequest,
  type StackEnvironment,
} from '../resource-provider';

/** The S3 error names of a bucket (or policy) that is already gone. */
const GONE = new Set(['NoSuchBucket', 'NoSuchBucketPolicy']);

/**
 * `AWS::S3::BucketPolicy`: PutBucketPolicy on its `Bucket` (the local S3 validates it as S3
 * does and evaluates it for every role session's request), replaced on an update, and
 * DeleteBucketPolicy on delete. A new `Bucket` is a replacement, so the engine creates the new
 * one first and deletes the old one in cleanup.
 */
export function s3BucketPolicyProvider(s3: S3Client, stack: StackEnvironment): ResourceProvider {
  const put = ({ logicalId, properties }: ResourceRequest) => {
    const policy =
      typeof properties.PolicyDocument === 'string'
        ? properties.PolicyDocument
        : JSON.stringify(properties.PolicyDocument);
    return runStep(logicalId, 'PutBucketPolicy', () =>
      s3.send(new PutBucketPolicyCommand({ Bucket: String(properties.Bucket), Policy: policy })),
    );
  };
  return {
    async create(request) {
      await put(request);
      stack.log(
        `created ${request.logicalId} (policy of bucket ${String(request.properties.Bucket)})`,
      );
      return {
        physicalId: templateOrGeneratedName(undefined, stack.stackName, request.logicalId),
        attributes: {},
      };
    },
    async update(request, current) {
      await put(request);
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete({ logicalId, properties }) {
      await runStep(logicalId, 'DeleteBucketPolicy', async () => {
        try {
          await s3.send(new DeleteBucketPolicyCommand({ Bucket: String(properties.Bucket) }));
        } catch (error) {
          if (!(error instanceof Error && GONE.has(error.name))) throw error;
        }
      });
    },
  };
}
