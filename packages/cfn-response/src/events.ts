import { MalformedEventError } from './errors';

/** The three kinds of request CloudFormation sends to a custom resource. */
export type RequestType = 'Create' | 'Update' | 'Delete';

/**
 * Resource properties as CloudFormation delivers them: every scalar arrives as a
 * string, and `ServiceToken` is always present.
 */
export type ResourceProperties = Record<string, unknown>;

interface EventBase<P extends ResourceProperties> {
  /** Pre-signed S3 URL the response goes to. Secret-ish: never log it. */
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  readonly ServiceToken?: string;
  readonly ResourceProperties: P & { readonly ServiceToken?: string };
}

/** A `Create` request: no physical id exists yet. */
export interface CreateEvent<
  P extends ResourceProperties = ResourceProperties,
> extends EventBase<P> {
  readonly RequestType: 'Create';
}

/** An `Update` request, with the properties the resource had before. */
export interface UpdateEvent<
  P extends ResourceProperties = ResourceProperties,
> extends EventBase<P> {
  readonly RequestType: 'Update';
  readonly PhysicalResourceId: string;
  readonly OldResourceProperties: P & { readonly ServiceToken?: string };
}

/** A `Delete` request for the resource with the given physical id. */
export interface DeleteEvent<
  P extends ResourceProperties = ResourceProperties,
> extends EventBase<P> {
  readonly RequestType: 'Delete';
  readonly PhysicalResourceId: string;
}

/** Any CloudFormation custom-resource request, discriminated by `RequestType`. */
export type CustomResourceEvent<P extends ResourceProperties = ResourceProperties> =
  CreateEvent<P> | UpdateEvent<P> | DeleteEvent<P>;

/**
 * The fields of an event that a response can be addressed with, gathered even
 * from an event too broken to hand to a handler.
 */
export interface ResponseAddress {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly RequestType?: string;
}

const REQUEST_TYPES: readonly string[] = ['Create', 'Update', 'Delete'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isHttpUrl(value: unknown): value is string {
  if (!nonEmptyString(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Whatever of an event's addressing fields can be used, or `undefined` when
 * there is no valid `ResponseURL` to answer to.
 */
export function responseAddressOf(raw: unknown): ResponseAddress | undefined {
  if (!isRecord(raw) || !isHttpUrl(raw.ResponseURL)) return undefined;
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return {
    ResponseURL: raw.ResponseURL,
    StackId: text(raw.StackId),
    RequestId: text(raw.RequestId),
    LogicalResourceId: text(raw.LogicalResourceId),
    ...(nonEmptyString(raw.PhysicalResourceId)
      ? { PhysicalResourceId: raw.PhysicalResourceId }
      : {}),
    ...(nonEmptyString(raw.RequestType) ? { RequestType: raw.RequestType } : {}),
  };
}

/**
 * Checks that `raw` is a well-formed custom-resource event and returns it typed.
 *
 * @throws {MalformedEventError} naming the first problem found, in one line.
 * @example
 * ```ts
 * const event = parseCustomResourceEvent(JSON.parse(body));
 * if (event.RequestType === 'Update') console.log(event.OldResourceProperties);
 * ```
 */
export function parseCustomResourceEvent<P extends ResourceProperties = ResourceProperties>(
  raw: unknown,
): CustomResourceEvent<P> {
  if (!isRecord(raw)) {
    throw new MalformedEventError('Malformed event: expected a JSON object');
  }
  if (!nonEmptyString(raw.RequestType)) {
    throw new MalformedEventError('Malformed event: missing RequestType');
  }
  if (!REQUEST_TYPES.includes(raw.RequestType)) {
    throw new MalformedEventError(
      `Malformed event: unknown RequestType "${raw.RequestType.slice(0, 40)}" (expected Create, Update or Delete)`,
    );
  }
  if (!nonEmptyString(raw.ResponseURL)) {
    throw new MalformedEventError('Malformed event: missing ResponseURL');
  }
  if (!isHttpUrl(raw.ResponseURL)) {
    throw new MalformedEventError('Malformed event: ResponseURL is not an http(s) URL');
  }
  for (const field of ['StackId', 'RequestId', 'ResourceType', 'LogicalResourceId'] as const) {
    if (!nonEmptyString(raw[field])) {
      throw new MalformedEventError(`Malformed event: missing ${field}`);
    }
  }
  if (raw.ResourceProperties !== undefined && !isRecord(raw.ResourceProperties)) {
    throw new MalformedEventError('Malformed event: ResourceProperties is not an object');
  }
  if (raw.RequestType !== 'Create' && !nonEmptyString(raw.PhysicalResourceId)) {
    throw new MalformedEventError(
      `Malformed event: missing PhysicalResourceId on a ${raw.RequestType} request`,
    );
  }
  if (raw.RequestType === 'Update' && !isRecord(raw.OldResourceProperties)) {
    throw new MalformedEventError('Malformed event: missing OldResourceProperties on an Update');
  }
  return {
    ...raw,
    ResourceProperties: raw.ResourceProperties ?? {},
  } as unknown as CustomResourceEvent<P>;
}
