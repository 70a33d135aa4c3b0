import { MalformedPolicyDocumentError, S3ServiceError } from '../errors';
import { parseBucketPolicy } from '../iam/policy-documents';
import type { S3Handlers } from './handler';
import type { S3ObjectStore } from './object-store';
import { readObjectBody } from './request-body';

/**
 * Handlers of PutBucketPolicy, GetBucketPolicy and DeleteBucketPolicy. The policy is a resource
 * policy: every role session's request to the bucket is evaluated against it together with the
 * session's identity policies (the admin is not, as before).
 */
export function bucketPolicyHandlers(store: S3ObjectStore): S3Handlers {
  return {
    PutBucketPolicy: async ({ req, res, bucketName }) => {
      const bucket = store.bucket(bucketName);
      const text = (await readObjectBody(req)).toString('utf8');
      try {
        parseBucketPolicy(text, bucketName);
      } catch (error) {
        if (!(error instanceof MalformedPolicyDocumentError)) throw error;
        throw new S3ServiceError('MalformedPolicy', 400, error.message, { BucketName: bucketName });
      }
      await bucket.setPolicy(text);
      res.writeHead(204).end();
      return 204;
    },
    GetBucketPolicy: ({ res, bucketName }) => {
      const text = store.bucket(bucketName).policyText;
      if (text === undefined) {
        throw new S3ServiceError('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', {
          BucketName: bucketName,
        });
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      return 200;
    },
    DeleteBucketPolicy: async ({ res, bucketName }) => {
      await store.bucket(bucketName).setPolicy(undefined);
      res.writeHead(204).end();
      return 204;
    },
  };
}
