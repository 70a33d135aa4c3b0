import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Access } from './request-access';

/** One S3 request, as a handler sees it. */
export interface S3Call {
  /** The operation name, e.g. `GetObject` (one handler may answer two). */
  operation: string;
  req: IncomingMessage;
  res: ServerResponse;
  /** The bucket the request names (`''` for the service itself). */
  bucketName: string;
  /** The object key (`''` for bucket operations). */
  key: string;
  query: URLSearchParams;
  /** The caller's permissions, for checks that depend on stored state (SSE-KMS key, missing key). */
  access: S3Access;
  /** Condition keys every IAM check of this request carries (`s3:authType`...). */
  commonContext: Record<string, string>;
}

/**
 * Answers one operation by writing the response itself (S3 answers differ in
 * headers and bodies); an `S3ServiceError` thrown before it writes becomes an
 * S3 error answer.
 * @returns the status it sent, for the request log
 */
export type S3Handler = (call: S3Call) => number | Promise<number>;

/** Handlers keyed by operation name. */
export type S3Handlers = Record<string, S3Handler>;
