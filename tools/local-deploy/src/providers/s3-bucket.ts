import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { templateOrGeneratedName } from '../physical-names';
import { runStep, type ResourceProvider, type StackEnvironment } from '../resource-provider';

/** S3 bucket names are at most 63 characters. */
const MAX_BUCKET_NAME = 63;

/**
 * `AWS::S3::Bucket` in the local S3. (Its `AWS::S3::BucketPolicy` is a
 * resource of its own: `s3-bucket-policy.ts`.)
 */
export function s3BucketProvider(s3: S3Client, stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(
        properties.BucketName,
        stack.stackName,
        logicalId,
        MAX_BUCKET_NAME,
      ).toLowerCase();
      await runStep(logicalId, 'CreateBucket', () =>
        s3.send(new CreateBucketCommand({ Bucket: name })),
      );
      stack.log(`created ${logicalId} (bucket ${name})`);
      return {
        physicalId: name,
        attributes: {
          Arn: `arn:aws:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${stack.region}.amazonaws.com`,
        },
      };
    },
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeleteBucket', () => deleteBucket(s3, physicalId));
    },
  };
}

/**
 * Deletes a bucket. CloudFormation would refuse to delete a non-empty bucket:
 * one that still holds objects is emptied and deleted (so nothing is left
 * locally) and the delete fails, naming what the stack left.
 */
async function deleteBucket(s3: S3Client, bucket: string): Promise<void> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (listed.Contents ?? []).map((object) => object.Key!).filter(Boolean);
  if (keys.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })) },
      }),
    );
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    throw new Error(
      `bucket ${bucket} still held ${keys.length} object(s): ${keys.slice(0, 5).join(', ')}`,
    );
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
