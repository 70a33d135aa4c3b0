import {
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  DescribeEndpointCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  certificateObjectKeys,
  credentialPointerKey,
  type CredentialObjectKeys,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
import { objectKeyList } from './certificate-objects';
import { pointerBody, pointerCertificateId } from './credential-pointer-store';
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
import { generateKeyAndCsr } from '@thingcert/csr';
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
   * Ignored: each certificate's objects have a folder of their own, so a
   * rotation overwrites nothing of the certificate it replaces.
   * @deprecated Since the pointer layout; has no effect.
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
  /** S3 keys of the certificate, public key and private key, in the certificate's own folder. */
  readonly objects: CredentialObjectKeys;
  /**
   * S3 key of the thing's credential pointer, written last and naming this
   * certificate. Absent only in results recorded before the pointer layout.
   */
  readonly credentialPointerObjectKey?: string;
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
 * pointer it overwrote (rotation) and a way to put it back. Only pointers
 * (no key material) are overwritten; still, log
 * {@link Provisioned.replacedKeys}, never the object.
 */
export interface Provisioned {
  readonly result: ProvisionResult;
  /** Keys whose earlier objects were overwritten (the pointer); empty when the thing had none. */
  readonly replacedKeys: readonly string[];
  /**
   * Puts the overwritten objects back (body, content type, SSE-KMS key), each
   * independently. Resolves to a one-line problem description when some
   * could not be put back, else `undefined`.
   */
  restoreReplaced(): Promise<string | undefined>;
}

/**
 * Creates a certificate for one thing and stores its credentials:
 * 1. looks up the `iot:Data-ATS` endpoint;
 * 2. creates an ACTIVE certificate (`server` or `csr` key mode);
 * 3. writes its record (with `recordOrigin`), then the certificate, the
 *    public and the private key to the certificate's own folder,
 *    `<keyPrefix><thingName>/certificates/<id>/` (SSE-KMS when `kmsKeyId` is
 *    set), each with `If-None-Match: *`;
 * 4. last, points the thing's pointer (`<keyPrefix><thingName>/current.json`)
 *    at it, so a device that reads the pointer always finds a complete set.
 *
 * No other certificate's objects are ever written: a rotation leaves the
 * replaced certificate's folder as it is until that certificate is
 * deprovisioned. If anything fails after the certificate exists, its objects
 * are deleted, the pointer put back as it was, and the certificate set
 * INACTIVE and deleted before the {@link ProvisioningError} is thrown. The
 * create call itself is never cut short by the signal, so the new
 * certificate's id is always learned and an abort during it still ends in
 * that cleanup.
 *
 * @example
 * ```ts
 * const result = await provision(
 *   { thingName: 'sensor-1', bucketName: 'my-creds', keyMode: 'csr' },
 *   { iot: new IoTClient({}), s3: new S3Client({}) },
 * );
 * console.log(result.certificateArn, result.credentialPointerObjectKey); // 'sensor-1/current.json'
 * ```
 */
export async function provision(
  input: ProvisionInput,
  deps: ProvisionerDeps,
): Promise<ProvisionResult> {
  return (await provisionRestorable(input, deps)).result;
}

/**
 * {@link provision}, also answering how to put back the pointer it
 * overwrote: for callers that may have to take the new certificate back after
 * it succeeded (the custom-resource handler when its response is undeliverable).
 *
 * @example
 * ```ts
 * const made = await provisionRestorable(location, deps);
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

  const objects = certificateObjectKeys(input, created.certificateId);
  const pointerKey = credentialPointerKey(input);
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
    await storeObjectsThenPointer(
      created,
      { objects, pointerKey, bucketName: input.bucketName },
      {
        context,
        journal,
        after,
      },
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

  logger.info('Provisioned', {
    ...context.fields,
    ...fields,
    objects: objectKeyList(objects),
    pointer: pointerKey,
  });
  return {
    result: {
      certificateId: created.certificateId,
      certificateArn: created.certificateArn,
      endpoint,
      bucketName: input.bucketName,
      objects,
      credentialPointerObjectKey: pointerKey,
    },
    replacedKeys: journal.replacedKeys,
    restoreReplaced: async () => {
      const problems = await journal.restoreReplaced();
      return problems.length > 0 ? problems.join('; ') : undefined;
    },
  };
}

/**
 * The credential objects, each `If-None-Match: *` into the certificate's own
 * folder (certificate first, then the keys), then the pointer: it names only a
 * certificate whose objects are all there. Every write goes through the
 * journal, so the compensation can undo exactly what was written.
 */
async function storeObjectsThenPointer(
  created: CreatedCertificate,
  where: { objects: CredentialObjectKeys; pointerKey: string; bucketName: string },
  run: {
    context: StepContext;
    journal: WriteJournal;
    after: (step: ProvisionStep, error: unknown) => ProvisioningError;
  },
): Promise<void> {
  const { objects, pointerKey } = where;
  const { context, journal, after } = run;
  await runStep(
    context,
    'storeCertificate',
    () =>
      journal.write(objects.certificate, created.certificatePem, {
        isOurs: (existing) => samePem(existing.body, created.certificatePem),
        assertReplaceable: (existing) => {
          // The folder is named after this certificate: anything else there
          // was not written by a provisioner, and is not ours to replace.
          const owner = certificateIdOfPem(existing.body);
          if (!samePem(existing.body, created.certificatePem)) {
            throw new ObjectConflictError({
              bucketName: where.bucketName,
              key: objects.certificate,
              ...(owner ? { ownerCertificateId: owner } : {}),
            });
          }
        },
      }),
    after,
  );
  // The certificate object claims the folder; the key files follow it.
  const keyFiles = [
    ['storePublicKey', objects.publicKey, created.publicKeyPem],
    ['storePrivateKey', objects.privateKey, created.privateKeyPem],
  ] as const;
  for (const [step, key, body] of keyFiles) {
    await runStep(
      context,
      step,
      () => journal.write(key, body, { isOurs: (existing) => existing.body === body }),
      after,
    );
  }
  // Last: the pointer names only a certificate whose objects are all there.
  const target = { certificateId: created.certificateId, certificateArn: created.certificateArn };
  await runStep(
    context,
    'storeCredentialPointer',
    () =>
      journal.write(pointerKey, pointerBody({ ...target, objects }), {
        isOurs: (existing) => pointerCertificateId(existing.body) === created.certificateId,
      }),
    after,
  );
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
    ...(origin.logicalResourceId !== undefined
      ? { logicalResourceId: origin.logicalResourceId }
      : {}),
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
 * the pointer, the one object that existed before, is put back as it was, the
 * others deleted), then INACTIVE and delete. Deliberately
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
  // The record goes last, and only when everything else went: while the
  // certificate or any of its objects (the private key among them) may still
  // exist, the record is the only thing that lets a later Delete find and
  // remove them. A cleanup with a step refused and the next ones allowed (a
  // Deny lifted meanwhile, a throttled call) must not drop it.
  if (recordKey && problems.length === 0) {
    await attempt('removeRecord', () => store.deleteMany([recordKey]));
  }
  if (problems.length > 0) {
    logger.error('Compensation incomplete', { ...fields, certificateId, problems });
    return problems.join('; ');
  }
  logger.info('Compensation done', { ...fields, certificateId });
  return undefined;
}
