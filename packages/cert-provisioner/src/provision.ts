import {
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  DescribeEndpointCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { KeyAlgorithm, KeyMode } from '@thingcert/contracts';
import {
  CredentialStore,
  certificateIdOfPem,
  isPreconditionFailure,
  samePem,
  type StoredObject,
} from './credential-store';
import {
  describeCause,
  isAwsErrorNamed,
  isProvisioningError,
  ObjectConflictError,
  ProvisioningError,
  type ProvisionStep,
} from './errors';
import { generateKeyAndCsr } from './generate-key-and-csr';
import { certificateObjectsOf, type CertificateLocation, type CertificateObjects } from './layout';
import { silentLogger, type ProvisionerDeps } from './provisioner-deps';
import { runStep, type StepContext } from './run-step';

/** Input of {@link provision}. */
export interface ProvisionInput extends CertificateLocation {
  /**
   * `server`: AWS IoT makes an RSA-2048 key pair (`CreateKeysAndCertificate`).
   * `csr`: the key pair is made here and only a CSR goes to AWS IoT
   * (`CreateCertificateFromCsr`).
   * @default 'server'
   */
  readonly keyMode?: KeyMode;
  /**
   * Key type in `csr` mode (`server` mode is always RSA-2048).
   * @default 'EC_P256'
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * KMS key id or ARN for SSE-KMS on every object written.
   * @default bucket default encryption
   */
  readonly kmsKeyId?: string;
  /**
   * Id of a certificate whose objects at this location may be overwritten
   * (rotation). Objects of any other certificate are never overwritten.
   * @default none
   */
  readonly replacesCertificateId?: string;
  /**
   * Aborts the work (the Lambda deadline is close); cleanup still runs.
   * @default never aborts
   */
  readonly signal?: AbortSignal;
}

/** What {@link provision} created. No key material: safe to log and return. */
export interface ProvisionResult {
  readonly certificateId: string;
  readonly certificateArn: string;
  /** The `iot:Data-ATS` endpoint address devices connect to. */
  readonly endpoint: string;
  readonly bucketName: string;
  /** S3 keys of the certificate, public key and private key. */
  readonly objects: CertificateObjects;
}

const PEM_CONTENT_TYPE = 'application/x-pem-file';

interface CreatedCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/**
 * A finished {@link provision}, plus what it needs to be taken back: the
 * objects it overwrote (rotation) and a way to put them back. Holds the
 * overwritten bodies, which include a private key, in a closure only: never
 * log or serialise it; log {@link Provisioned.replacedKeys} instead.
 */
export interface Provisioned {
  readonly result: ProvisionResult;
  /** Keys whose earlier objects were overwritten; empty when the folder was new. */
  readonly replacedKeys: readonly string[];
  /**
   * Puts the overwritten objects back (body, content type, SSE-KMS key), each
   * independently. Resolves to a one-line problem description (no key
   * material) when some could not be put back, else `undefined`.
   */
  restoreReplaced(): Promise<string | undefined>;
}

/**
 * Creates a certificate for one thing and stores its credentials:
 * 1. looks up the `iot:Data-ATS` endpoint;
 * 2. creates an ACTIVE certificate (`server` or `csr` key mode);
 * 3. writes the certificate, then the public and private key, to
 *    `<keyPrefix><thingName>/` (SSE-KMS when `kmsKeyId` is set). The
 *    certificate is written with `If-None-Match: *`; an existing one is
 *    overwritten only when it is this certificate (a retry) or
 *    `replacesCertificateId`.
 *
 * If anything fails after the certificate exists, the objects written are
 * undone (objects that existed before are put back as they were, new ones
 * deleted) and the certificate set INACTIVE and deleted before the
 * {@link ProvisioningError} is thrown: no orphans, and a failed rotation
 * leaves the replaced certificate's files in place. The create call itself is
 * never cut short by the signal, so the new certificate's id is always learned
 * and an abort during it still ends in that cleanup.
 *
 * @example
 * ```ts
 * const result = await provision(
 *   { thingName: 'sensor-1', bucketName: 'my-creds', keyMode: 'csr' },
 *   { iot: new IoTClient({}), s3: new S3Client({}) },
 * );
 * console.log(result.certificateArn, result.objects.certificate);
 * ```
 */
export async function provision(
  input: ProvisionInput,
  deps: ProvisionerDeps,
): Promise<ProvisionResult> {
  return (await provisionRestorable(input, deps)).result;
}

/**
 * {@link provision}, also answering how to put back the objects it
 * overwrote: for callers that may have to take the new certificate back after
 * it succeeded (the custom-resource handler when its response is undeliverable).
 *
 * @example
 * ```ts
 * const made = await provisionRestorable({ ...location, replacesCertificateId }, deps);
 * // ...later, taking the new certificate back:
 * const problem = await made.restoreReplaced();
 * ```
 */
export async function provisionRestorable(
  input: ProvisionInput,
  deps: ProvisionerDeps,
): Promise<Provisioned> {
  const { thingName } = input;
  const logger = deps.logger ?? silentLogger;
  const context: StepContext = {
    logger,
    signal: input.signal,
    fields: { operation: 'provision', thingName },
  };
  const signalOption = { abortSignal: input.signal };
  const before = (step: ProvisionStep, error: unknown): Error =>
    isProvisioningError(error)
      ? error
      : new ProvisioningError({ thingName, step, compensation: 'not-needed' }, { cause: error });

  const endpoint = await runStep(
    context,
    'describeEndpoint',
    async () => {
      const out = await deps.iot.send(
        new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }),
        signalOption,
      );
      if (!out.endpointAddress) throw new Error('DescribeEndpoint returned no endpointAddress');
      return out.endpointAddress;
    },
    before,
  );

  const created = await createCertificate(input, deps, context, before);
  const fields = { certificateId: created.certificateId };
  logger.info('Certificate created', { ...context.fields, ...fields });

  const store = new CredentialStore(deps.s3, input.bucketName);
  const objects = certificateObjectsOf(input);
  // Every key this run may have written, with what it held before (undefined:
  // nothing, so undoing means deleting). Insertion order = write order.
  const written = new Map<string, StoredObject | undefined>();
  const put = { kmsKeyId: input.kmsKeyId, contentType: PEM_CONTENT_TYPE, signal: input.signal };
  const after = (step: ProvisionStep, error: unknown): ProvisioningError =>
    new ProvisioningError(
      { thingName, step, certificateId: created.certificateId, compensation: 'not-needed' },
      { cause: error },
    );
  /**
   * Writes `body` to `key` if nothing is there; otherwise asks `replaceable`
   * about the existing object, remembers it, and overwrites it only if it is
   * still the object read (`If-Match`).
   */
  const write = async (
    key: string,
    body: string,
    isOurs: (existing: StoredObject) => boolean,
    replaceable: (existing: StoredObject) => void,
  ): Promise<void> => {
    // Set before the PUT: it may land even when the answer is lost. A
    // conditional PUT that landed cannot have replaced anything.
    written.set(key, undefined);
    try {
      await store.put(key, body, { ...put, ifNoneMatch: true });
      return;
    } catch (error) {
      if (!isPreconditionFailure(error)) throw error;
      written.delete(key);
    }
    // Something is there already: whose is it?
    const existing = await store.get(key, input.signal);
    if (existing) replaceable(existing);
    // Our own earlier write (a retried PUT that landed) is not worth keeping.
    written.set(key, existing && !isOurs(existing) ? existing : undefined);
    await store.put(key, body, {
      ...put,
      ...(existing?.etag ? { ifMatch: existing.etag } : { ifNoneMatch: true }),
    });
  };
  try {
    await runStep(
      context,
      'storeCertificate',
      () =>
        write(
          objects.certificate,
          created.certificatePem,
          (existing) => samePem(existing.body, created.certificatePem),
          (existing) => {
            const owner = certificateIdOfPem(existing.body);
            const replaceable =
              samePem(existing.body, created.certificatePem) ||
              (input.replacesCertificateId !== undefined && owner === input.replacesCertificateId);
            if (!replaceable) {
              throw new ObjectConflictError({
                bucketName: input.bucketName,
                key: objects.certificate,
                ...(owner ? { ownerCertificateId: owner } : {}),
              });
            }
          },
        ),
      after,
    );
    // The certificate object claims the folder; the key files follow it.
    const followsTheCertificate = () => undefined;
    await runStep(
      context,
      'storePublicKey',
      () =>
        write(
          objects.publicKey,
          created.publicKeyPem,
          (existing) => existing.body === created.publicKeyPem,
          followsTheCertificate,
        ),
      after,
    );
    await runStep(
      context,
      'storePrivateKey',
      () =>
        write(
          objects.privateKey,
          created.privateKeyPem,
          (existing) => existing.body === created.privateKeyPem,
          followsTheCertificate,
        ),
      after,
    );
  } catch (error) {
    const failure = isProvisioningError(error) ? error : after('storeCertificate', error);
    const problem = await compensate(
      created.certificateId,
      written,
      store,
      deps,
      logger,
      context.fields,
    );
    throw new ProvisioningError(
      {
        thingName,
        step: failure.step,
        certificateId: created.certificateId,
        compensation: problem ? 'failed' : 'done',
        ...(problem ? { compensationProblem: problem } : {}),
      },
      { cause: failure.cause },
    );
  }

  logger.info('Provisioned', { ...context.fields, ...fields, objects: Object.values(objects) });
  const replaced = new Map<string, StoredObject>();
  for (const [key, previous] of written) if (previous) replaced.set(key, previous);
  return {
    result: {
      certificateId: created.certificateId,
      certificateArn: created.certificateArn,
      endpoint,
      bucketName: input.bucketName,
      objects,
    },
    replacedKeys: [...replaced.keys()],
    restoreReplaced: async () => {
      const problems = await putBack(store, replaced);
      return problems.length > 0 ? problems.join('; ') : undefined;
    },
  };
}

/**
 * Puts each object back as it was (body, content type, SSE-KMS key), one
 * independent PUT per key, ignoring any abort signal: this is cleanup.
 * Returns problem lines (key and cause, never the body).
 */
async function putBack(
  store: CredentialStore,
  previous: ReadonlyMap<string, StoredObject>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [key, object] of previous) {
    try {
      await store.put(key, object.body, {
        contentType: object.contentType ?? PEM_CONTENT_TYPE,
        ...(object.kmsKeyId ? { kmsKeyId: object.kmsKeyId } : {}),
      });
    } catch (error) {
      problems.push(`restoreObject ${key}: ${describeCause(error)}`);
    }
  }
  return problems;
}

async function createCertificate(
  input: ProvisionInput,
  deps: ProvisionerDeps,
  context: StepContext,
  wrap: (step: ProvisionStep, error: unknown) => Error,
): Promise<CreatedCertificate> {
  // The create call gets no abort signal and is not raced against it: a
  // dropped answer would leave an ACTIVE certificate whose id nobody knows.
  // An abort meanwhile is seen by the next step, which routes to compensation.
  const notAbortable = { abortable: false } as const;
  const mode = input.keyMode ?? 'server';
  switch (mode) {
    case 'server':
      return runStep(
        context,
        'createCertificate',
        async () => {
          const out = await deps.iot.send(
            new CreateKeysAndCertificateCommand({ setAsActive: true }),
          );
          const { certificateId, certificateArn, certificatePem, keyPair } = out;
          if (
            !certificateId ||
            !certificateArn ||
            !certificatePem ||
            !keyPair?.PrivateKey ||
            !keyPair.PublicKey
          ) {
            throw new Error('CreateKeysAndCertificate returned an incomplete answer');
          }
          return {
            certificateId,
            certificateArn,
            certificatePem,
            publicKeyPem: keyPair.PublicKey,
            privateKeyPem: keyPair.PrivateKey,
          };
        },
        wrap,
        notAbortable,
      );
    case 'csr': {
      const keys = await runStep(
        context,
        'generateKey',
        () => generateKeyAndCsr(input.thingName, input.keyAlgorithm ?? 'EC_P256'),
        wrap,
      );
      return runStep(
        context,
        'createCertificate',
        async () => {
          const out = await deps.iot.send(
            new CreateCertificateFromCsrCommand({
              certificateSigningRequest: keys.csrPem,
              setAsActive: true,
            }),
          );
          const { certificateId, certificateArn, certificatePem } = out;
          if (!certificateId || !certificateArn || !certificatePem) {
            throw new Error('CreateCertificateFromCsr returned an incomplete answer');
          }
          return {
            certificateId,
            certificateArn,
            certificatePem,
            publicKeyPem: keys.publicKeyPem,
            privateKeyPem: keys.privateKeyPem,
          };
        },
        wrap,
        notAbortable,
      );
    }
  }
}

/**
 * Undoes a half-finished provision: objects first (they hold the private key;
 * those that existed before, i.e. the replaced certificate's, are put back as
 * they were, the others deleted), then INACTIVE and delete. Deliberately
 * ignores the abort signal: cleanup must run especially when the deadline
 * stopped the work. Returns a one-line problem description when something
 * could not be undone.
 */
async function compensate(
  certificateId: string,
  written: ReadonlyMap<string, StoredObject | undefined>,
  store: CredentialStore,
  deps: ProvisionerDeps,
  logger: NonNullable<ProvisionerDeps['logger']>,
  fields: Record<string, unknown>,
): Promise<string | undefined> {
  const problems: string[] = [];
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (isAwsErrorNamed(error, 'ResourceNotFoundException')) return;
      problems.push(`${what}: ${describeCause(error)}`);
    }
  };
  const restore = new Map<string, StoredObject>();
  const remove: string[] = [];
  for (const [key, previous] of written) {
    if (previous) restore.set(key, previous);
    else remove.push(key);
  }
  logger.warn('Compensating: removing the new certificate and its objects', {
    ...fields,
    certificateId,
    objects: remove,
    restoredObjects: [...restore.keys()],
  });
  if (restore.size > 0) problems.push(...(await putBack(store, restore)));
  if (remove.length > 0) await attempt('deleteObjects', () => store.deleteMany(remove));
  await attempt('deactivateCertificate', () =>
    deps.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })),
  );
  await attempt('deleteCertificate', () =>
    deps.iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true })),
  );
  if (problems.length > 0) {
    logger.error('Compensation incomplete', { ...fields, certificateId, problems });
    return problems.join('; ');
  }
  logger.info('Compensation done', { ...fields, certificateId });
  return undefined;
}
