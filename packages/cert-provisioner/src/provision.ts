import {
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  DescribeEndpointCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  credentialObjectKeys,
  type CredentialObjectKeys,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
import { CredentialStore, certificateIdOfPem, samePem } from './credential-store';
import {
  describeCause,
  isAwsErrorNamed,
  isProvisioningError,
  ObjectConflictError,
  ProvisioningError,
  type ProvisionStep,
} from './errors';
import {
  certificateRecordKey,
  type CertificateRecord,
  type RecordOrigin,
} from './certificate-record';
import { generateKeyAndCsr } from './generate-key-and-csr';
import type { CertificateLocation } from './layout';
import { silentLogger, type ProvisionerDeps } from './provisioner-deps';
import { runStep, type StepContext } from './run-step';
import { WriteJournal } from './write-journal';

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
   * When set, the certificate's record (what it was made with, and this
   * origin) is written to `<folder>.thingcert/certificates/<id>.json` as soon
   * as the certificate exists, before any credential object: the proof that
   * this provisioner made it, which the custom resource requires before it
   * removes a certificate. Removed again by the compensation and by
   * {@link deprovision}.
   * @default no record
   */
  readonly recordOrigin?: RecordOrigin;
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
  readonly objects: CredentialObjectKeys;
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

  const objects = credentialObjectKeys(input);
  const journal = new WriteJournal(new CredentialStore(deps.s3, input.bucketName), {
    kmsKeyId: input.kmsKeyId,
    contentType: PEM_CONTENT_TYPE,
    signal: input.signal,
  });
  const after = (step: ProvisionStep, error: unknown): ProvisioningError =>
    new ProvisioningError(
      { thingName, step, certificateId: created.certificateId, compensation: 'not-needed' },
      { cause: error },
    );
  const store = new CredentialStore(deps.s3, input.bucketName);
  const recordKey = input.recordOrigin
    ? certificateRecordKey(input, created.certificateId)
    : undefined;
  try {
    if (recordKey && input.recordOrigin) {
      const record = recordOf(input, input.recordOrigin, created, endpoint);
      await runStep(
        context,
        'recordCertificate',
        () =>
          store.put(recordKey, JSON.stringify(record), {
            contentType: 'application/json',
            kmsKeyId: input.kmsKeyId,
          }),
        after,
        // Written even at the deadline: it is how a certificate whose cleanup
        // gets cut short is found and removed later.
        { evenAfterAbort: true },
      );
    }
    await runStep(
      context,
      'storeCertificate',
      () =>
        journal.write(objects.certificate, created.certificatePem, {
          isOurs: (existing) => samePem(existing.body, created.certificatePem),
          assertReplaceable: (existing) => {
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
        }),
      after,
    );
    // The certificate object claims the folder; the key files follow it.
    await runStep(
      context,
      'storePublicKey',
      () =>
        journal.write(objects.publicKey, created.publicKeyPem, {
          isOurs: (existing) => existing.body === created.publicKeyPem,
        }),
      after,
    );
    await runStep(
      context,
      'storePrivateKey',
      () =>
        journal.write(objects.privateKey, created.privateKeyPem, {
          isOurs: (existing) => existing.body === created.privateKeyPem,
        }),
      after,
    );
  } catch (error) {
    const failure = isProvisioningError(error) ? error : after('storeCertificate', error);
    const problem = await compensate(
      { certificateId: created.certificateId, journal, store, recordKey },
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
  return {
    result: {
      certificateId: created.certificateId,
      certificateArn: created.certificateArn,
      endpoint,
      bucketName: input.bucketName,
      objects,
    },
    replacedKeys: journal.replacedKeys,
    restoreReplaced: async () => {
      const problems = await journal.restoreReplaced();
      return problems.length > 0 ? problems.join('; ') : undefined;
    },
  };
}

function recordOf(
  input: ProvisionInput,
  origin: RecordOrigin,
  created: CreatedCertificate,
  endpoint: string,
): CertificateRecord {
  const keyMode = input.keyMode ?? 'server';
  return {
    version: 1,
    certificateId: created.certificateId,
    certificateArn: created.certificateArn,
    endpoint,
    thingName: input.thingName,
    bucketName: input.bucketName,
    keyPrefix: input.keyPrefix ?? '',
    keyMode,
    keyAlgorithm: keyMode === 'server' ? 'RSA_2048' : (input.keyAlgorithm ?? 'EC_P256'),
    ...(origin.rotationToken !== undefined ? { rotationToken: origin.rotationToken } : {}),
    ...(origin.stackId !== undefined ? { stackId: origin.stackId } : {}),
    ...(origin.requestId !== undefined ? { requestId: origin.requestId } : {}),
    createdAt: new Date().toISOString(),
  };
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
  made: {
    certificateId: string;
    journal: WriteJournal;
    store: CredentialStore;
    recordKey: string | undefined;
  },
  deps: ProvisionerDeps,
  logger: NonNullable<ProvisionerDeps['logger']>,
  fields: Record<string, unknown>,
): Promise<string | undefined> {
  const { certificateId, journal, store, recordKey } = made;
  logger.warn('Compensating: removing the new certificate and its objects', {
    ...fields,
    certificateId,
    objects: journal.createdKeys,
    restoredObjects: journal.replacedKeys,
  });
  const problems = await journal.rollBack();
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (isAwsErrorNamed(error, 'ResourceNotFoundException')) return;
      problems.push(`${what}: ${describeCause(error)}`);
    }
  };
  await attempt('deactivateCertificate', () =>
    deps.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })),
  );
  await attempt('deleteCertificate', () =>
    deps.iot.send(new DeleteCertificateCommand({ certificateId, forceDelete: true })),
  );
  // The record goes only with the certificate: while the certificate may
  // still exist, the record is what lets a later Delete find and remove it.
  const iotRemoved = !problems.some(
    (p) => p.startsWith('deactivateCertificate') || p.startsWith('deleteCertificate'),
  );
  if (recordKey && iotRemoved) await attempt('removeRecord', () => store.deleteMany([recordKey]));
  if (problems.length > 0) {
    logger.error('Compensation incomplete', { ...fields, certificateId, problems });
    return problems.join('; ');
  }
  logger.info('Compensation done', { ...fields, certificateId });
  return undefined;
}
