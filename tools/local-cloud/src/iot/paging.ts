import { IotServiceError } from '../errors';

/** One page of a listing, and the token of the next page when there is one. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/**
 * The page size a List call asked for (`pageSize` / `maxResults`), or `fallback`.
 * @throws IotServiceError `InvalidRequestException` outside 1..max, as AWS answers.
 */
export function pageSize(raw: string | null, fallback: number, max: number): number {
  if (raw === null) return fallback;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new IotServiceError(
      'InvalidRequestException',
      400,
      `Page size must be between 1 and ${max}`,
    );
  }
  return size;
}

/**
 * Offset paging with an opaque token, like AWS's markers.
 * @throws IotServiceError `InvalidRequestException` for a token this function did not make.
 */
export function paginate<T>(all: T[], token: string | null, size: number): Page<T> {
  let start = 0;
  if (token !== null && token.length > 0) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) {
      throw new IotServiceError(
        'InvalidRequestException',
        400,
        'The pagination token is not valid',
      );
    }
  }
  const items = all.slice(start, start + size);
  const end = start + items.length;
  return end < all.length
    ? { items, next: Buffer.from(String(end)).toString('base64url') }
    : { items };
}
