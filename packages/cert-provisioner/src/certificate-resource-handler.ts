import {
  customResourceHandler,
  isResponseDeliveryError,
  jsonConsoleLogger,
  requestIdOfCreateFailedMarker,
  type CustomResourceEvent,
  type DeleteEvent,
  type HandlerResult,
  type LambdaContextLike,
  type LambdaHandler,
  type RetryOptions,
  type StructuredLogger,
} from '@thingcert/cfn-response';
import type { DeviceCertificateData } from '@thingcert/contracts';
import {
  parseCertificateProperties,
  replacementReasons,
  type CertificateProperties,
} from './certificate-properties';
import { CredentialStore } from './credential-store';
import { deprovision } from './deprovision';
import { describeProvisioned } from './describe-provisioned';
import { DeadlineError, describeCause } from './errors';
import { withFields } from './logger';
import { provisionRestorable, type Provisioned, type ProvisionResult } from './provision';
import { realSleep, type ProvisionerDeps } from './provisioner-deps';
import { recordFailure, requestMarkerKey, runClaimed, type ClaimedOutcome } from './request-claim';

/** Options for {@link createCertificateResourceHandler}. */
export interface CertificateResourceHandlerOptions {
  /**
   * How long before the Lambda deadline the response guard answers FAILED, in ms.
   * @default 5000
   */
  readonly timeoutMarginMs?: number;
  /**
   * Extra time, before the guard, reserved for cleanup: the work is aborted
   * this long before the guard fires so a half-made certificate is removed
   * and the FAILED answer says why. In ms.
   * @default 5000
   */
  readonly cleanupReserveMs?: number;
  /**
   * Longest wait for asynchronous thing detachment on Delete, in ms.
   * @default 30000
   */
  readonly detachTimeoutMs?: number;
  /** Retry policy of the response PUT. */
  readonly retry?: RetryOptions;
  /**
   * Structured logger.
   * @default JSON lines on stdout/stderr
   */
  readonly logger?: StructuredLogger;
}

/**
 * The `Data` of the custom resource: what `Fn::GetAtt` can read. No key material.
 *
 * @deprecated Use `DeviceCertificateData` from `@thingcert/contracts`.
 */
export type CertificateResourceData = DeviceCertificateData;

const CERTIFICATE_ID = /^[0-9a-f]{64}$/;

/** The custom resource's `Data` for a provisioned certificate. */
export function resourceDataOf(result: ProvisionResult): DeviceCertificateData {
  return {
    CertificateArn: result.certificateArn,
    CertificateId: result.certificateId,
    IoTEndpoint: result.endpoint,
    CertificateObjectKey: result.objects.certificate,
    PrivateKeyObjectKey: result.objects.privateKey,
    PublicKeyObjectKey: result.objects.publicKey,
  };
}

function textField(raw: unknown, field: string): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = (raw as Record<string, unknown>)[field];
  return typeof value === 'string' ? value.slice(0, 200) : undefined;
}

/**
 * Builds the Lambda handler of the `Custom::ThingCertificate` resource from
 * injected clients (the Lambda entry passes real ones; tests pass mocks):
 * - Create: {@link provision}, at most once per request (StackId + RequestId)
 *   even when CloudFormation delivers it twice at the same time;
 *   PhysicalResourceId = certificate id.
 * - Update: unchanged identity answers the same id and Data, re-read from
 *   IoT and S3; a changed ThingName, BucketName, KeyPrefix, KeyMode,
 *   KeyAlgorithm or RotationToken makes a new certificate (new id), and
 *   CloudFormation then deletes the old one.
 * - Delete: {@link deprovision}.
 * Invalid properties answer FAILED naming the property. If the response
 * cannot be delivered after this invocation made a certificate, the
 * certificate is removed again: CloudFormation would never delete it.
 *
 * @example
 * ```ts
 * export const handler = createCertificateResourceHandler(createAwsClients());
 * ```
 */
export function createCertificateResourceHandler(
  deps: Omit<ProvisionerDeps, 'logger'>,
  options: CertificateResourceHandlerOptions = {},
): LambdaHandler {
  const baseLogger = options.logger ?? jsonConsoleLogger();
  const sleep = deps.sleep ?? realSleep;
  const marginMs = options.timeoutMarginMs ?? 5000;
  const reserveMs = options.cleanupReserveMs ?? 5000;

  return async function handleCertificateEvent(
    rawEvent: unknown,
    lambdaContext?: LambdaContextLike,
  ) {
    const logger = withFields(baseLogger, {
      awsRequestId: lambdaContext?.awsRequestId,
      requestId: textField(rawEvent, 'RequestId'),
      thingName: textField(
        (rawEvent as { ResourceProperties?: unknown } | null)?.ResourceProperties,
        'ThingName',
      ),
    });
    const coreDeps: ProvisionerDeps = { ...deps, logger, sleep };
    // Set when this invocation made a certificate CloudFormation must learn about.
    let madeHere:
      | {
          outcome: ClaimedOutcome;
          props: CertificateProperties;
          provisioned: Provisioned | undefined;
        }
      | undefined;

    const inner = customResourceHandler(
      async (event, context) => {
        const remaining = context.getRemainingTimeInMillis?.() ?? 900_000;
        const workMs = Math.max(0, remaining - marginMs - reserveMs);
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(new DeadlineError()), workMs);
        // Throttled AWS calls wait their turn until the work is cut off, and
        // no longer: a step that must not be abandoned then fails cleanly.
        deps.retryDeadline?.set(Date.now() + workMs);
        try {
          return await handle(event, controller.signal);
        } finally {
          clearTimeout(timer);
          deps.retryDeadline?.clear();
        }
      },
      {
        timeoutMarginMs: marginMs,
        logger,
        onFailedCreateDelete: removeFailedRequestMarker,
        ...(options.retry ? { retry: options.retry } : {}),
      },
    );

    /**
     * The failed Create left its request marker as a tombstone (so a late
     * duplicate could not make a certificate nobody tracks). CloudFormation's
     * rollback Delete is the end of that request: remove it, so deleting the
     * stack leaves no object behind.
     */
    async function removeFailedRequestMarker(event: DeleteEvent): Promise<void> {
      const createRequestId = requestIdOfCreateFailedMarker(event.PhysicalResourceId);
      if (createRequestId === undefined) return;
      const props = parseCertificateProperties(event.ResourceProperties);
      const key = requestMarkerKey({
        stackId: event.StackId,
        requestId: createRequestId,
        location: {
          thingName: props.thingName,
          bucketName: props.bucketName,
          keyPrefix: props.keyPrefix,
        },
      });
      await new CredentialStore(deps.s3, props.bucketName).deleteMany([key]);
      logger.info('Removed the request marker of the failed Create', { step: 'cleanup' });
    }

    async function provisionOnce(
      event: CustomResourceEvent,
      props: CertificateProperties,
      signal: AbortSignal,
      replacesCertificateId?: string,
    ): Promise<HandlerResult> {
      const location = {
        thingName: props.thingName,
        bucketName: props.bucketName,
        keyPrefix: props.keyPrefix,
      };
      // Kept to put the replaced certificate's objects back if the new one
      // must be taken back after all. Holds key material: never logged.
      let provisioned: Provisioned | undefined;
      const outcome = await runClaimed(
        {
          stackId: event.StackId,
          requestId: event.RequestId,
          location,
          signal,
          ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
        },
        { store: new CredentialStore(deps.s3, props.bucketName), logger, sleep },
        async () => {
          provisioned = await provisionRestorable(
            {
              ...location,
              keyMode: props.keyMode,
              keyAlgorithm: props.keyAlgorithm,
              signal,
              ...(props.kmsKeyId ? { kmsKeyId: props.kmsKeyId } : {}),
              ...(replacesCertificateId ? { replacesCertificateId } : {}),
            },
            coreDeps,
          );
          return provisioned.result;
        },
        (result) => removeCertificate(result, props, provisioned),
      );
      if (outcome.createdHere) madeHere = { outcome, props, provisioned };
      return {
        physicalResourceId: outcome.result.certificateId,
        data: { ...resourceDataOf(outcome.result) },
      };
    }

    /**
     * Takes back a certificate this invocation made. After a rotation the
     * folder holds the new certificate's files over the replaced one's, which
     * CloudFormation still tracks: those are put back first. Then deprovision
     * finds the replaced certificate in the folder and keeps the files (its
     * "files hold this certificate" check), removing only the new certificate
     * and its markers.
     */
    async function removeCertificate(
      result: ProvisionResult,
      props: CertificateProperties,
      made: Provisioned | undefined,
    ) {
      const base = {
        certificateId: result.certificateId,
        thingName: props.thingName,
        detachTimeoutMs: 0,
      };
      if (made && made.replacedKeys.length > 0) {
        logger.warn('Putting back the objects of the replaced certificate', {
          certificateId: result.certificateId,
          objects: made.replacedKeys,
        });
        const problem = await made.restoreReplaced();
        if (problem) {
          // The folder is now part old, part new: deleting it by ownership
          // could take the replaced certificate's files. Touch IoT only.
          logger.error(
            'Could not put back all objects of the replaced certificate; leaving the folder as it is',
            { certificateId: result.certificateId, problem },
          );
          return deprovision(base, coreDeps);
        }
      }
      return deprovision(
        { ...base, bucketName: props.bucketName, keyPrefix: props.keyPrefix },
        coreDeps,
      );
    }

    async function handle(
      event: CustomResourceEvent,
      signal: AbortSignal,
    ): Promise<HandlerResult | void> {
      switch (event.RequestType) {
        case 'Create': {
          const props = parseCertificateProperties(event.ResourceProperties);
          return provisionOnce(event, props, signal);
        }
        case 'Update': {
          const props = parseCertificateProperties(event.ResourceProperties);
          let old: CertificateProperties | undefined;
          try {
            old = parseCertificateProperties(event.OldResourceProperties);
          } catch {
            old = undefined;
          }
          const reasons = old ? replacementReasons(old, props) : ['OldResourceProperties'];
          const oldId = CERTIFICATE_ID.test(event.PhysicalResourceId)
            ? event.PhysicalResourceId
            : undefined;
          if (reasons.length === 0 && oldId) {
            logger.info('Update keeps the certificate', { certificateId: oldId });
            const same = await describeProvisioned(
              {
                certificateId: oldId,
                thingName: props.thingName,
                bucketName: props.bucketName,
                keyPrefix: props.keyPrefix,
                signal,
              },
              coreDeps,
            );
            return { physicalResourceId: oldId, data: { ...resourceDataOf(same) } };
          }
          logger.info('Update replaces the certificate', {
            changed: reasons,
            oldCertificateId: oldId,
          });
          const sameFolder =
            old !== undefined &&
            old.thingName === props.thingName &&
            old.bucketName === props.bucketName &&
            old.keyPrefix === props.keyPrefix;
          return provisionOnce(event, props, signal, sameFolder ? oldId : undefined);
        }
        case 'Delete': {
          const certificateId = event.PhysicalResourceId;
          if (!CERTIFICATE_ID.test(certificateId)) {
            logger.info('Physical id is not a certificate id; nothing to delete');
            return;
          }
          let props: CertificateProperties | undefined;
          try {
            props = parseCertificateProperties(event.ResourceProperties);
          } catch (error) {
            // Never block a stack deletion on properties: clean up IoT at least.
            logger.warn('Delete with invalid properties: cleaning up the certificate only', {
              reason: describeCause(error),
            });
          }
          await deprovision(
            {
              certificateId,
              thingName:
                props?.thingName ?? textField(event.ResourceProperties, 'ThingName') ?? '(unknown)',
              signal,
              ...(props ? { bucketName: props.bucketName, keyPrefix: props.keyPrefix } : {}),
              ...(options.detachTimeoutMs !== undefined
                ? { detachTimeoutMs: options.detachTimeoutMs }
                : {}),
            },
            coreDeps,
          );
          return;
        }
      }
    }

    try {
      await inner(rawEvent, lambdaContext);
    } catch (error) {
      if (isResponseDeliveryError(error) && madeHere) {
        // CloudFormation never heard of this certificate and will never delete it.
        const { outcome, props, provisioned } = madeHere;
        logger.error('Response undeliverable: removing the certificate made for it', {
          certificateId: outcome.result.certificateId,
        });
        try {
          await removeCertificate(outcome.result, props, provisioned);
          const store = new CredentialStore(deps.s3, props.bucketName);
          await recordFailure(
            outcome.markerKey,
            new Date().toISOString(),
            'the response to CloudFormation could not be delivered',
            (marker) =>
              store.put(outcome.markerKey, JSON.stringify(marker), {
                contentType: 'application/json',
                kmsKeyId: props.kmsKeyId,
              }),
            logger,
          );
        } catch (cleanup) {
          logger.error('Could not remove the certificate after an undeliverable response', {
            certificateId: outcome.result.certificateId,
            error: describeCause(cleanup),
          });
        }
      }
      throw error;
    }
  };
}
