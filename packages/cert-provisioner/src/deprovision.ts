import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DetachPolicyCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  certificateFolder,
  credentialObjectKeys,
  credentialPointerKey,
  type CredentialFileNames,
} from '@thingcert/contracts';
import { objectKeyList } from './certificate-objects';
import { certificateRecordKey } from './certificate-record';
import { moveCredentialPointerAway, type PointerMove } from './credential-pointer-moves';
import { CredentialStore, certificateIdOfPem, samePem } from './credential-store';
import { DeprovisioningError, isAwsErrorNamed, type DeprovisionStep } from './errors';
import { requestMarkerFolder, thingFolder } from './layout';
import { realSleep, silentLogger, type ProvisionerDeps } from './provisioner-deps';
import { runStep, type StepContext } from './run-step';

/** Input of {@link deprovision}. */
export interface DeprovisionInput {
  /** The certificate to remove. */
  readonly certificateId: string;
  /** The thing it was made for (names the S3 folder and the errors). */
  readonly thingName: string;
  /**
   * Bucket of the credentials.
   * @default none: only the IoT side is cleaned up
   */
  readonly bucketName?: string;
  /** @default '' */
  readonly keyPrefix?: string;
  /** File names of the fixed per-thing files written before the pointer layout. */
  readonly fileNames?: CredentialFileNames;
  /**
   * Other certificates of the thing being removed along with this one (a
   * sweep): the pointer is never moved to any of them.
   * @default none
   */
  readonly alsoRemoving?: readonly string[];
  /**
   * Longest wait for asynchronous thing detachment before giving up, in ms.
   * @default 30000
   */
  readonly detachTimeoutMs?: number;
  /** @default never aborts */
  readonly signal?: AbortSignal;
}

/** What {@link deprovision} did. */
export interface DeprovisionResult {
  /** False when the certificate was already gone. */
  readonly certificateDeleted: boolean;
  /** Policies detached from the certificate. */
  readonly detachedPolicies: readonly string[];
  /** Keys deleted from the bucket. */
  readonly deletedObjects: readonly string[];
  /**
   * Fixed per-thing files (the layout before the pointer) left because they
   * hold another certificate.
   */
  readonly keptObjects: readonly string[];
  /** What happened to the thing's pointer; `untouched` without a bucket. */
  readonly pointer: PointerMove;
}

interface CertificateFacts {
  readonly arn: string;
  readonly pem: string | undefined;
  readonly status: string | undefined;
}

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 4000;

/**
 * Removes a thing's certificate and only that certificate's objects.
 * Idempotent: anything already gone counts as done.
 * 1. when the thing's pointer names it, points the pointer at the newest
 *    other recorded certificate that is still ACTIVE and has its objects, or
 *    deletes the pointer when there is none; before anything is removed, so a
 *    device reading the pointer never finds objects missing;
 * 2. waits (bounded, with backoff) until no thing is attached any more:
 *    detaching is asynchronous in AWS IoT;
 * 3. detaches any policy still attached;
 * 4. sets the certificate INACTIVE and deletes it (`forceDelete`);
 * 5. lists `<keyPrefix><thingName>/` (paginated) and deletes the
 *    certificate's own folder, its request markers and record, and the fixed
 *    per-thing files of the layout before the pointer if they hold this
 *    certificate. Another certificate's objects are never touched.
 *
 * @example
 * ```ts
 * await deprovision(
 *   { certificateId, thingName: 'sensor-1', bucketName: 'my-creds' },
 *   { iot: new IoTClient({}), s3: new S3Client({}) },
 * );
 * ```
 */
export async function deprovision(
  input: DeprovisionInput,
  deps: ProvisionerDeps,
): Promise<DeprovisionResult> {
  const { thingName, certificateId } = input;
  const run: DeprovisionRun = {
    input,
    deps,
    context: {
      logger: deps.logger ?? silentLogger,
      signal: input.signal,
      fields: { operation: 'deprovision', thingName, certificateId },
    },
    wrap: (step, error) =>
      new DeprovisioningError({ thingName, step, certificateId }, { cause: error }),
  };

  const facts = await runStep(
    run.context,
    'describeCertificate',
    () => describeCertificate(run),
    run.wrap,
  );
  const pointer = input.bucketName
    ? await runStep(
        run.context,
        'moveCredentialPointer',
        () =>
          moveCredentialPointerAway({
            deps,
            store: new CredentialStore(deps.s3, input.bucketName!),
            location: { ...input, bucketName: input.bucketName! },
            leaving: new Set([certificateId, ...(input.alsoRemoving ?? [])]),
            signal: input.signal,
          }),
        run.wrap,
      )
    : ({ kind: 'untouched' } as const);
  if (pointer.kind !== 'untouched') {
    run.context.logger.info('Credential pointer moved off the certificate', {
      ...run.context.fields,
      pointer,
    });
  }
  let detachedPolicies: string[] = [];
  if (facts) {
    detachedPolicies = await removeFromIot(run, facts);
  } else {
    run.context.logger.info('Certificate already gone', run.context.fields);
  }

  if (!input.bucketName) {
    return {
      certificateDeleted: facts !== undefined,
      detachedPolicies,
      deletedObjects: [],
      keptObjects: [],
      pointer,
    };
  }
  const plan = await removeObjects(run, input.bucketName, facts);
  return {
    certificateDeleted: facts !== undefined,
    detachedPolicies,
    deletedObjects: plan.remove,
    keptObjects: plan.keep,
    pointer,
  };
}

/** What every step of one {@link deprovision} shares. */
interface DeprovisionRun {
  readonly input: DeprovisionInput;
  readonly deps: ProvisionerDeps;
  readonly context: StepContext;
  readonly wrap: (step: DeprovisionStep, error: unknown) => Error;
}

function gone(error: unknown): boolean {
  return isAwsErrorNamed(error, 'ResourceNotFoundException');
}

/** The certificate as IoT knows it, or `undefined` when it is already gone. */
async function describeCertificate(run: DeprovisionRun): Promise<CertificateFacts | undefined> {
  const { certificateId, signal } = run.input;
  try {
    const out = await run.deps.iot.send(new DescribeCertificateCommand({ certificateId }), {
      abortSignal: signal,
    });
    const description = out.certificateDescription;
    if (!description?.certificateArn) throw new Error('DescribeCertificate returned no ARN');
    return {
      arn: description.certificateArn,
      pem: description.certificatePem,
      status: description.status,
    };
  } catch (error) {
    if (gone(error)) return undefined;
    throw error;
  }
}

/**
 * The IoT side, in the order IoT allows: wait for things to detach, detach
 * policies, set INACTIVE, delete. Returns the policies detached.
 */
async function removeFromIot(run: DeprovisionRun, facts: CertificateFacts): Promise<string[]> {
  const { context, wrap, deps } = run;
  const { certificateId } = run.input;
  const signalOption = { abortSignal: run.input.signal };
  await runStep(context, 'waitForThingDetachment', () => waitForThingDetachment(run, facts), wrap);
  const detachedPolicies = await runStep(
    context,
    'detachPolicies',
    () => detachPolicies(run, facts),
    wrap,
  );
  await runStep(
    context,
    'deactivateCertificate',
    async () => {
      // INACTIVE is only reachable from ACTIVE; other states need no change.
      if (facts.status !== undefined && facts.status !== 'ACTIVE') return;
      try {
        await deps.iot.send(
          new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }),
          signalOption,
        );
      } catch (error) {
        if (!gone(error)) throw error;
      }
    },
    wrap,
  );
  await runStep(
    context,
    'deleteCertificate',
    async () => {
      try {
        await deps.iot.send(
          new DeleteCertificateCommand({ certificateId, forceDelete: true }),
          signalOption,
        );
      } catch (error) {
        if (!gone(error)) throw error;
      }
    },
    wrap,
  );
  return detachedPolicies;
}

/** Waits, bounded and with backoff, until no thing is attached: detaching is asynchronous. */
async function waitForThingDetachment(run: DeprovisionRun, facts: CertificateFacts) {
  const { input, deps } = run;
  const sleep = deps.sleep ?? realSleep;
  const limitMs = input.detachTimeoutMs ?? 30_000;
  // Counts the time slept rather than the clock, so the bound is exact
  // and tests with an instant sleep stay deterministic.
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const things = await listPrincipalThings(deps, facts.arn, input.signal);
    if (things.length === 0) return;
    if (waited >= limitMs) {
      throw new Error(
        `still attached to thing(s) ${things.slice(0, 5).join(', ')} after ${Math.round(waited / 1000)} s; detach them (remove the ThingPrincipalAttachment) and retry`,
      );
    }
    const delay = Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** attempt, limitMs - waited);
    run.context.logger.info('Waiting for thing detachment', {
      ...run.context.fields,
      things,
      delayMs: delay,
    });
    await sleep(delay, input.signal);
    waited += delay;
  }
}

/** Detaches every policy still attached (paginated); one already detached counts. */
async function detachPolicies(run: DeprovisionRun, facts: CertificateFacts): Promise<string[]> {
  const signalOption = { abortSignal: run.input.signal };
  const detached: string[] = [];
  let marker: string | undefined;
  do {
    let page;
    try {
      page = await run.deps.iot.send(
        new ListAttachedPoliciesCommand({ target: facts.arn, marker }),
        signalOption,
      );
    } catch (error) {
      // A duplicate delivery of the same Delete deleted it meanwhile: nothing
      // is attached to a certificate that no longer exists.
      if (gone(error)) return detached;
      throw error;
    }
    for (const policy of page.policies ?? []) {
      if (!policy.policyName) continue;
      try {
        await run.deps.iot.send(
          new DetachPolicyCommand({ policyName: policy.policyName, target: facts.arn }),
          signalOption,
        );
      } catch (error) {
        if (!gone(error)) throw error;
      }
      detached.push(policy.policyName);
    }
    marker = page.nextMarker;
  } while (marker);
  return detached;
}

/**
 * The S3 side: deletes the certificate's own folder, its record and the
 * request markers naming it, and the fixed per-thing files of the layout
 * before the pointer if they hold this certificate (after a rotation they
 * hold the new one and stay). The pointer and other certificates' folders are
 * never deleted here.
 */
async function removeObjects(
  run: DeprovisionRun,
  bucketName: string,
  facts: CertificateFacts | undefined,
): Promise<{ remove: string[]; keep: string[] }> {
  const { input, context, wrap } = run;
  const location = {
    thingName: input.thingName,
    bucketName,
    keyPrefix: input.keyPrefix,
    fileNames: input.fileNames,
  };
  const store = new CredentialStore(run.deps.s3, bucketName);
  const plan = await runStep(
    context,
    'listObjects',
    async () => {
      const keys = await store.list(thingFolder(location), input.signal);
      const legacy = credentialObjectKeys(location);
      const legacyKeys = new Set(objectKeyList(legacy));
      const remove: string[] = [];
      const keep: string[] = [];
      const legacyCertificate = keys.includes(legacy.certificate)
        ? await store.get(legacy.certificate, input.signal)
        : undefined;
      const legacyOurs =
        legacyCertificate === undefined ||
        certificateIdOfPem(legacyCertificate.body) === input.certificateId ||
        (facts?.pem !== undefined && samePem(legacyCertificate.body, facts.pem));
      const ownFolder = certificateFolder(location, input.certificateId);
      const markers = requestMarkerFolder(location);
      const record = certificateRecordKey(location, input.certificateId);
      const pointer = credentialPointerKey(location);
      for (const key of keys) {
        if (key === record || key.startsWith(ownFolder)) {
          remove.push(key);
        } else if (legacyKeys.has(key) && key !== pointer) {
          (legacyOurs ? remove : keep).push(key);
        } else if (key.startsWith(markers)) {
          const marker = await store.get(key, input.signal);
          if (marker && markerNames(marker.body, input.certificateId)) remove.push(key);
        }
      }
      return { remove, keep };
    },
    wrap,
  );
  if (plan.keep.length > 0) {
    context.logger.info('Fixed credential files belong to another certificate; keeping them', {
      ...context.fields,
      objects: plan.keep,
    });
  }
  await runStep(context, 'deleteObjects', () => store.deleteMany(plan.remove, input.signal), wrap);
  return plan;
}

function markerNames(body: string, certificateId: string): boolean {
  try {
    const parsed = JSON.parse(body) as { certificateId?: unknown };
    return parsed.certificateId === certificateId;
  } catch {
    return false;
  }
}

async function listPrincipalThings(
  deps: ProvisionerDeps,
  principal: string,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const things: string[] = [];
  let nextToken: string | undefined;
  do {
    let page;
    try {
      page = await deps.iot.send(new ListPrincipalThingsCommand({ principal, nextToken }), {
        abortSignal: signal,
      });
    } catch (error) {
      // Deleted meanwhile (a duplicate delivery): no thing is attached to it.
      if (gone(error)) return things;
      throw error;
    }
    things.push(...(page.things ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return things;
}
