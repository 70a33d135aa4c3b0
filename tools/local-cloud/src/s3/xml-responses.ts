import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { S3ServiceError } from '../errors';
import type { ListObjectsV2Page } from './list-objects';
import { escapeXml } from './xml-text';

/**
 * Sends an XML document with the headers S3 answers with.
 * @returns the status, for the request log
 */
export function sendXml(res: ServerResponse, status: number, xml: string): number {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    'x-amz-request-id': randomUUID(),
  });
  res.end(text);
  return status;
}

/**
 * Answers an error as S3 does: the `<Error>` document (code, message, the
 * error's extra members such as `BucketName`, resource, request id), or the
 * bare status for HEAD, which has no body.
 */
export function sendS3Error(
  res: ServerResponse,
  method: string,
  error: S3ServiceError,
  resource: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (method === 'HEAD') {
    // HEAD responses have no body; the SDK names the error from the status (NotFound...).
    res.writeHead(error.status, { 'x-amz-request-id': randomUUID() }).end();
    return;
  }
  const extra = Object.entries(error.extra)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('');
  sendXml(
    res,
    error.status,
    `<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>${extra}<Resource>${escapeXml(resource)}</Resource><RequestId>${randomUUID()}</RequestId></Error>`,
  );
}

/** The ListBuckets answer. */
export function listAllMyBucketsXml(names: string[]): string {
  return (
    '<ListAllMyBucketsResult><Owner><ID>local</ID></Owner><Buckets>' +
    names
      .map(
        (n) =>
          `<Bucket><Name>${escapeXml(n)}</Name><CreationDate>${new Date(0).toISOString()}</CreationDate></Bucket>`,
      )
      .join('') +
    '</Buckets></ListAllMyBucketsResult>'
  );
}

/**
 * The DeleteObjects answer: one `<Deleted>` per deleted key (none in quiet mode), one `<Error>`
 * per key the caller may not delete (also in quiet mode).
 */
export function deleteResultXml(keys: string[], quiet: boolean, denied: string[] = []): string {
  const deleted = quiet
    ? ''
    : keys.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`).join('');
  const errors = denied
    .map(
      (k) =>
        `<Error><Key>${escapeXml(k)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`,
    )
    .join('');
  return `<DeleteResult>${deleted}${errors}</DeleteResult>`;
}

/** The ListObjectsV2 answer for one page of bucket `name`. */
export function listBucketResultXml(name: string, page: ListObjectsV2Page): string {
  const enc = (s: string) => escapeXml(page.urlEncode ? encodeURIComponent(s) : s);
  return (
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(name)}</Name>` +
    `<Prefix>${enc(page.prefix)}</Prefix>` +
    (page.delimiter.length > 0 ? `<Delimiter>${enc(page.delimiter)}</Delimiter>` : '') +
    `<MaxKeys>${page.maxKeys}</MaxKeys><KeyCount>${page.contents.length + page.commonPrefixes.length}</KeyCount>` +
    `<IsTruncated>${page.truncated}</IsTruncated>` +
    (page.urlEncode ? '<EncodingType>url</EncodingType>' : '') +
    (page.token !== null ? `<ContinuationToken>${escapeXml(page.token)}</ContinuationToken>` : '') +
    (page.nextToken !== undefined
      ? `<NextContinuationToken>${page.nextToken}</NextContinuationToken>`
      : '') +
    (page.startAfter.length > 0 ? `<StartAfter>${enc(page.startAfter)}</StartAfter>` : '') +
    page.contents
      .map(
        (o) =>
          `<Contents><Key>${enc(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified>` +
          `<ETag>"${o.etag}"</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('') +
    page.commonPrefixes
      .map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`)
      .join('') +
    '</ListBucketResult>'
  );
}
