import { S3ServiceError } from '../errors';
import type { S3Handlers } from './handler';
import { listObjectsV2 } from './list-objects';
import type { S3ObjectStore } from './object-store';
import { drainBody } from './request-body';
import { listAllMyBucketsXml, listBucketResultXml, sendXml } from './xml-responses';

// S3's bucket naming rule from the S3 user guide, kept here on purpose rather
// than imported from thingcert (see iot/request-validation.ts).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** What the bucket operations need. */
export interface BucketHandlerDeps {
  store: S3ObjectStore;
  /** Answered in `x-amz-bucket-region` by HeadBucket. */
  region: string;
}

/** Handlers of ListBuckets, CreateBucket, HeadBucket, DeleteBucket and ListObjectsV2. */
export function bucketHandlers({ store, region }: BucketHandlerDeps): S3Handlers {
  return {
    ListBuckets: ({ res }) => sendXml(res, 200, listAllMyBucketsXml(store.bucketNames())),
    CreateBucket: async ({ req, res, bucketName }) => {
      await drainBody(req);
      if (!BUCKET_NAME.test(bucketName)) {
        throw bucketError(
          'InvalidBucketName',
          400,
          'The specified bucket is not valid.',
          bucketName,
        );
      }
      if (store.hasBucket(bucketName)) {
        throw bucketError(
          'BucketAlreadyOwnedByYou',
          409,
          'Your previous request to create the named bucket succeeded and you already own it.',
          bucketName,
        );
      }
      await store.createBucket(bucketName);
      res.writeHead(200, { location: `/${bucketName}`, 'content-length': 0 }).end();
      return 200;
    },
    HeadBucket: ({ res, bucketName }) => {
      store.bucket(bucketName);
      res.writeHead(200, { 'x-amz-bucket-region': region, 'content-length': 0 }).end();
      return 200;
    },
    DeleteBucket: async ({ res, bucketName }) => {
      const bucket = store.bucket(bucketName);
      if (bucket.size > 0) {
        throw bucketError(
          'BucketNotEmpty',
          409,
          'The bucket you tried to delete is not empty',
          bucketName,
        );
      }
      await store.deleteBucket(bucketName);
      res.writeHead(204).end();
      return 204;
    },
    ListObjectsV2: ({ res, bucketName, query }) => {
      const page = listObjectsV2(store.bucket(bucketName), query);
      return sendXml(res, 200, listBucketResultXml(bucketName, page));
    },
  };
}

/** An S3 error about a bucket: S3 names the bucket in a `<BucketName>` member. */
function bucketError(
  code: string,
  status: number,
  message: string,
  bucketName: string,
): S3ServiceError {
  return new S3ServiceError(code, status, message, { BucketName: bucketName });
}
