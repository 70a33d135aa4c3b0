import type { S3Bucket, StoredObject } from './object-store';

/** One ListObjectsV2 page, with the request's parameters echoed back as S3 does. */
export interface ListObjectsV2Page {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  startAfter: string;
  /** The continuation token the request carried, if any. */
  token: string | null;
  /** `encoding-type=url`: keys and prefixes go out percent-encoded. */
  urlEncode: boolean;
  contents: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Token for the next page (set when `truncated`). */
  nextToken: string | undefined;
}

/**
 * ListObjectsV2 over a bucket: keys in order after `start-after` or the
 * continuation token, filtered by `prefix`, rolled up into common prefixes by
 * `delimiter`, at most `max-keys` (≤ 1000) entries.
 */
export function listObjectsV2(bucket: S3Bucket, query: URLSearchParams): ListObjectsV2Page {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? '1000') || 0));
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after') ?? '';
  let after = startAfter;
  if (token !== null) {
    after = Buffer.from(token, 'base64url').toString('utf8');
  }
  const keys = bucket
    .keys()
    .filter((k) => k.startsWith(prefix) && k > after)
    .sort();
  const contents: StoredObject[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const key of keys) {
    let commonPrefix: string | undefined;
    if (delimiter.length > 0) {
      const index = key.indexOf(delimiter, prefix.length);
      if (index !== -1) commonPrefix = key.slice(0, index + delimiter.length);
    }
    if (commonPrefix !== undefined && prefixes.at(-1) === commonPrefix) {
      last = key;
      continue;
    }
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (commonPrefix !== undefined) prefixes.push(commonPrefix);
    else contents.push(bucket.get(key) as StoredObject);
    last = key;
  }
  // When a page ends inside a common prefix, skip the rest of that prefix next time.
  const resumeAfter =
    prefixes.length > 0 && last.startsWith(prefixes.at(-1) ?? '\u0000')
      ? `${prefixes.at(-1)}\uffff`
      : last;
  return {
    prefix,
    delimiter,
    maxKeys,
    startAfter,
    token,
    urlEncode: query.get('encoding-type') === 'url',
    contents,
    commonPrefixes: prefixes,
    truncated,
    nextToken: truncated ? Buffer.from(resumeAfter).toString('base64url') : undefined,
  };
}
