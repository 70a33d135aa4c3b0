import { createHash } from 'node:crypto';
import { redactPem } from './redact-pem';

/** CloudFormation rejects a response body larger than this many bytes. */
export const MAX_RESPONSE_BYTES = 4096;

/** CloudFormation rejects a physical resource id longer than this many bytes. */
export const MAX_PHYSICAL_ID_BYTES = 1024;

/**
 * Prefix of the physical id answered for a Create that failed before the
 * resource existed. CloudFormation follows a failed Create with a Delete for
 * that id; the wrapper acknowledges such a Delete without calling the handler.
 */
export const CREATE_FAILED_MARKER = 'thingcert:CREATE_FAILED';

/** The JSON document PUT to the `ResponseURL`. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, unknown>;
}

/** The id to answer a failed Create with; recognisable by {@link isCreateFailedMarker}. */
export function createFailedMarker(requestId: string): string {
  return `${CREATE_FAILED_MARKER}:${requestId}`.slice(0, MAX_PHYSICAL_ID_BYTES);
}

/**
 * The `RequestId` of the failed Create a marker id was answered for, or
 * `undefined` when `physicalResourceId` is not such a marker.
 */
export function requestIdOfCreateFailedMarker(physicalResourceId: string): string | undefined {
  const prefix = `${CREATE_FAILED_MARKER}:`;
  return physicalResourceId.startsWith(prefix)
    ? physicalResourceId.slice(prefix.length)
    : undefined;
}

/** True when `physicalResourceId` was answered for a Create that failed. */
export function isCreateFailedMarker(physicalResourceId: string | undefined): boolean {
  return physicalResourceId?.startsWith(CREATE_FAILED_MARKER) ?? false;
}

/**
 * The physical id a Create gets when its handler names none: derived from the
 * stack, the logical id and the request, so a duplicate delivery of the same
 * request answers with the same id. Never the Lambda log stream name.
 */
export function defaultPhysicalResourceId(event: {
  StackId: string;
  LogicalResourceId: string;
  RequestId: string;
}): string {
  const digest = createHash('sha256')
    .update(`${event.StackId}\n${event.LogicalResourceId}\n${event.RequestId}`)
    .digest('hex')
    .slice(0, 16);
  return `${event.LogicalResourceId.slice(0, 200)}-${digest}`;
}

/**
 * Turns anything thrown into a one-line reason: `Name: message`, first line of
 * the message only (no stack trace), with any PEM block replaced so key
 * material can never reach CloudFormation events.
 */
export function reasonFromError(error: unknown): string {
  let text: string;
  if (error instanceof Error) {
    const message = error.message.trim() || '(no message)';
    text = error.name && error.name !== 'Error' ? `${error.name}: ${message}` : message;
  } else if (typeof error === 'string') {
    text = error;
  } else {
    text = `Non-error thrown: ${typeof error}`;
  }
  return oneLine(text);
}

/** Collapses text to one line and removes PEM blocks. */
export function oneLine(text: string): string {
  const scrubbed = redactPem(text);
  const firstLine = scrubbed.split(/\r?\n/).find((line) => line.trim().length > 0) ?? '';
  return firstLine.trim();
}

/** Byte length of a response body as it will be sent. */
export function responseBytes(response: CustomResourceResponse): number {
  return Buffer.byteLength(JSON.stringify(response), 'utf8');
}

/**
 * Shortens the `Reason` of a FAILED response until the body fits
 * {@link MAX_RESPONSE_BYTES}, cutting on a character boundary and marking the cut.
 */
export function fitReason(response: CustomResourceResponse): CustomResourceResponse {
  if (responseBytes(response) <= MAX_RESPONSE_BYTES || response.Reason === undefined) {
    return response;
  }
  const chars = Array.from(response.Reason);
  let low = 0;
  let high = chars.length;
  // Binary search for the longest prefix that fits: JSON escaping makes the
  // byte cost of a character unpredictable, so measure instead of computing.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const candidate = { ...response, Reason: `${chars.slice(0, mid).join('')}…` };
    if (responseBytes(candidate) <= MAX_RESPONSE_BYTES) low = mid;
    else high = mid - 1;
  }
  return { ...response, Reason: `${chars.slice(0, low).join('')}…` };
}
