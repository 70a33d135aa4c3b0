import { createHash } from 'node:crypto';
import type { StructuredLogger } from '@thingcert/cfn-response';
import { isPreconditionFailure, type CredentialStore } from './credential-store';
import { describeCause, DuplicateRequestError } from './errors';
import { requestMarkerFolder, type CertificateLocation } from './layout';
import type { ProvisionResult } from './provision';
import type { Sleep } from './provisioner-deps';

/**
 * What every state of one request's marker repeats: when it was claimed and
 * for which resource, so that the end of that resource (a Delete whose
 * physical id is no certificate) can find a Create still in flight.
 */
export interface RequestMarkerBase {
  readonly claimedAt: string;
  /** The stack of the request; absent in markers written before it was recorded. */
  readonly stackId?: string;
  /** The custom resource of the request; absent in markers written before it was recorded. */
  readonly logicalResourceId?: string;
}

/** The JSON stored in a request marker. Never holds key material. */
export interface RequestMarker extends RequestMarkerBase {
  readonly version: 1;
  readonly state: 'pending' | 'succeeded' | 'failed';
  /** Set once succeeded: deprovision deletes markers naming its certificate. */
  readonly certificateId?: string;
  readonly result?: ProvisionResult;
  /** One-line reason when failed. */
  readonly reason?: string;
}

/** One CloudFormation request (StackId + RequestId) that creates a certificate. */
export interface ClaimInput {
  readonly stackId: string;
  readonly requestId: string;
  /** The custom resource the request is for. @default not recorded */
  readonly logicalResourceId?: string;
  /** Where the new certificate goes; the marker lives in its thing folder. */
  readonly location: CertificateLocation;
  readonly kmsKeyId?: string;
  readonly signal?: AbortSignal;
}

/** What {@link runClaimed} returns: the result, and whether this delivery made it. */
export interface ClaimedOutcome {
  readonly result: ProvisionResult;
  /** False when another delivery of the same request made it. */
  readonly createdHere: boolean;
  /** S3 key of the marker. */
  readonly markerKey: string;
  /** What every later state of the marker repeats. */
  readonly markerBase: RequestMarkerBase;
}

const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 2000;

/** S3 key of the marker for one request. */
export function requestMarkerKey(
  input: Pick<ClaimInput, 'stackId' | 'requestId' | 'location'>,
): string {
  const digest = createHash('sha256').update(`${input.stackId}\n${input.requestId}`).digest('hex');
  return `${requestMarkerFolder(input.location)}${digest.slice(0, 40)}.json`;
}

/**
 * Runs `work` at most once per CloudFormation request, however many times the
 * request is delivered: the first delivery claims a marker object with
 * `If-None-Match: *`; a concurrent or later duplicate loses that race, waits
 * for the marker to settle, and answers the winner's result (or its failure).
 * A failed request keeps its marker as a tombstone so that a late duplicate
 * cannot create a certificate CloudFormation no longer tracks.
 *
 * `confirm`, when given, runs after `work` and before success is recorded,
 * and may throw to refuse the result; `undo` removes a result that was
 * refused or whose marker could not be recorded.
 */
export async function runClaimed(
  input: ClaimInput,
  deps: { store: CredentialStore; logger: StructuredLogger; sleep: Sleep },
  work: () => Promise<ProvisionResult>,
  undo: (result: ProvisionResult) => Promise<unknown>,
  confirm?: (base: RequestMarkerBase) => Promise<void>,
): Promise<ClaimedOutcome> {
  const { store, logger } = deps;
  const markerKey = requestMarkerKey(input);
  const write = (marker: RequestMarker, claim = false) =>
    store.put(markerKey, JSON.stringify(marker), {
      contentType: 'application/json',
      kmsKeyId: input.kmsKeyId,
      ...(claim ? { ifNoneMatch: true } : {}),
    });
  const markerBase: RequestMarkerBase = {
    claimedAt: new Date().toISOString(),
    stackId: input.stackId,
    ...(input.logicalResourceId !== undefined
      ? { logicalResourceId: input.logicalResourceId }
      : {}),
  };
  let claimed: boolean;
  try {
    await write({ version: 1, state: 'pending', ...markerBase }, true);
    claimed = true;
  } catch (error) {
    if (!isPreconditionFailure(error)) throw error;
    claimed = false;
  }
  if (!claimed) {
    logger.warn('Duplicate delivery of this request: waiting for the first one', { markerKey });
    return {
      result: await waitForSettled(markerKey, input, deps),
      createdHere: false,
      markerKey,
      markerBase,
    };
  }

  let result: ProvisionResult;
  try {
    result = await work();
  } catch (error) {
    await recordFailure(markerKey, markerBase, describeCause(error), write, logger);
    throw error;
  }
  try {
    await confirm?.(markerBase);
    await write({
      version: 1,
      state: 'succeeded',
      ...markerBase,
      certificateId: result.certificateId,
      result,
    });
  } catch (error) {
    // Refused, or without the marker a duplicate could not learn the result: take it back.
    logger.error('Could not record the result; removing the new certificate', {
      markerKey,
      error: describeCause(error),
    });
    await undo(result);
    await recordFailure(markerKey, markerBase, describeCause(error), write, logger);
    throw error;
  }
  return { result, createdHere: true, markerKey, markerBase };
}

/** Marks a claimed request failed; best effort (the error in hand matters more). */
export async function recordFailure(
  markerKey: string,
  base: RequestMarkerBase,
  reason: string,
  write: (marker: RequestMarker) => Promise<void>,
  logger: StructuredLogger,
): Promise<void> {
  try {
    await write({ version: 1, state: 'failed', ...base, reason });
  } catch (error) {
    logger.warn('Could not record the failure in the request marker', {
      markerKey,
      error: describeCause(error),
    });
  }
}

/** A marker's body, or `undefined` when it is not a marker of ours. */
export function parseRequestMarker(body: string): RequestMarker | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<RequestMarker>;
    return parsed.version === 1 &&
      (parsed.state === 'pending' || parsed.state === 'succeeded' || parsed.state === 'failed') &&
      typeof parsed.claimedAt === 'string'
      ? (parsed as RequestMarker)
      : undefined;
  } catch {
    return undefined;
  }
}

async function waitForSettled(
  markerKey: string,
  input: ClaimInput,
  deps: { store: CredentialStore; sleep: Sleep },
): Promise<ProvisionResult> {
  for (let attempt = 0; ; attempt++) {
    const stored = await deps.store.get(markerKey, input.signal);
    if (!stored) {
      throw new DuplicateRequestError(
        'Another delivery of this request left no marker; not creating a second certificate',
      );
    }
    let marker: RequestMarker;
    try {
      marker = JSON.parse(stored.body) as RequestMarker;
    } catch (error) {
      throw new DuplicateRequestError('Request marker is not valid JSON', { cause: error });
    }
    if (marker.state === 'succeeded' && marker.result) return marker.result;
    if (marker.state === 'failed') {
      throw new DuplicateRequestError(
        `Another delivery of this request failed: ${marker.reason ?? 'unknown reason'}`,
      );
    }
    try {
      await deps.sleep(Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** attempt), input.signal);
    } catch {
      throw new DuplicateRequestError(
        'Another delivery of this request is still running and did not finish before the deadline',
      );
    }
  }
}
