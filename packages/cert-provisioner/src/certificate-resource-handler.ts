import {
  customResourceHandler,
  isResponseDeliveryError,
  jsonConsoleLogger,
  type CustomResourceEvent,
  type HandlerResult,
  type LambdaContextLike,
  type LambdaHandler,
  type RetryOptions,
  type StructuredLogger,
} from '@thingcert/cfn-response';
import { credentialPointerKey, type DeviceCertificateData } from '@thingcert/contracts';
import {
  parseCertificateProperties,
  replacementReasons,
  type CertificateProperties,
} from './certificate-properties';
import type { CertificateRequestContext, MadeCertificate } from './certificate-request-context';
import { removeFailedRequestMarker } from './failed-create-marker';
import { handleDelete } from './handle-delete';
import { handleUpdate } from './handle-update';
import { withFields } from './logger';
import type { ProvisionResult } from './provision';
import { provisionOnce } from './provision-once';
import { realSleep, type ProvisionerDeps } from './provisioner-deps';
import { takeBackUndelivered } from './take-back-certificate';
import { withinWorkDeadline } from './work-deadline';

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

/**
 * The custom resource's `Data` for a provisioned certificate: its own object
 * keys and the thing's pointer. `location` names the pointer for a result
 * recorded before the pointer layout.
 */
export function resourceDataOf(
  result: ProvisionResult,
  location?: { readonly thingName: string; readonly keyPrefix?: string },
): DeviceCertificateData {
  const pointer =
    result.credentialPointerObjectKey ?? (location ? credentialPointerKey(location) : undefined);
  if (pointer === undefined) {
    throw new Error('resourceDataOf: a result without a pointer key needs the location');
  }
  return {
    CertificateArn: result.certificateArn,
    CertificateId: result.certificateId,
    IoTEndpoint: result.endpoint,
    CertificateObjectKey: result.objects.certificate,
    PrivateKeyObjectKey: result.objects.privateKey,
    PublicKeyObjectKey: result.objects.publicKey,
    CredentialPointerObjectKey: pointer,
  };
}

function textField(raw: unknown, field: string): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = (raw as Record<string, unknown>)[field];
  return typeof value === 'string' ? value.slice(0, 200) : undefined;
}

/** Fields every log line of one invocation carries, read before the event is validated. */
function logFieldsOf(rawEvent: unknown, lambdaContext: LambdaContextLike | undefined) {
  return {
    awsRequestId: lambdaContext?.awsRequestId,
    requestId: textField(rawEvent, 'RequestId'),
    thingName: textField(
      (rawEvent as { ResourceProperties?: unknown } | null)?.ResourceProperties,
      'ThingName',
    ),
  };
}

/**
 * Builds the Lambda handler of the `Custom::ThingcertDeviceCertificate` resource
 * (`DEVICE_CERTIFICATE_RESOURCE_TYPE` in `@thingcert/contracts`) from
 * injected clients (the Lambda entry passes real ones; tests pass mocks):
 * - Create: {@link provisionOnce}: {@link provision}, at most once per
 *   request (StackId + RequestId) even when CloudFormation delivers it twice
 *   at the same time; PhysicalResourceId = certificate id.
 * - Update ({@link handleUpdate}): when the current certificate's record
 *   matches the requested ThingName, BucketName, KeyPrefix, KeyMode,
 *   KeyAlgorithm and RotationToken, the same id and Data (never FAILED: this
 *   is also CloudFormation's rollback Update); otherwise a new certificate
 *   (new id) in a folder of its own, the pointer moved to it, and
 *   CloudFormation then deletes the old one.
 * - Delete ({@link handleDelete}): {@link deprovision}, only of a certificate
 *   recorded in the thing's folder, moving the pointer back to the newest
 *   other usable certificate when it named this one; the rollback Delete of
 *   a failed Create removes what that Create left
 *   ({@link removeFailedRequestMarker}), and a Delete with an id
 *   CloudFormation made up removes what the resource's Create made.
 * - Update and Delete also remove certificates of the stack made by requests
 *   never answered SUCCESS (their own cleanup failed).
 * Invalid properties answer FAILED naming the property. If the response
 * cannot be delivered after this invocation made a certificate, the
 * certificate is removed again ({@link takeBackUndelivered}): CloudFormation
 * would never delete it. The work is aborted ahead of the deadline
 * ({@link withinWorkDeadline}) to leave time for cleanup.
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
  const timeoutMarginMs = options.timeoutMarginMs ?? 5000;
  const deadline = {
    timeoutMarginMs,
    cleanupReserveMs: options.cleanupReserveMs ?? 5000,
    retryDeadline: deps.retryDeadline,
  };

  return async function handleCertificateEvent(
    rawEvent: unknown,
    lambdaContext?: LambdaContextLike,
  ) {
    const logger = withFields(baseLogger, logFieldsOf(rawEvent, lambdaContext));
    const requestDeps = { ...deps, logger, sleep };
    // Set when this invocation made a certificate CloudFormation must learn about.
    let madeHere: MadeCertificate | undefined;
    const inner = customResourceHandler(
      (event, context) =>
        withinWorkDeadline(context, deadline, (signal) =>
          handleRequest(
            event,
            {
              deps: requestDeps,
              signal,
              recordMade: (made) => {
                madeHere = made;
              },
            },
            options,
          ),
        ),
      {
        timeoutMarginMs,
        logger,
        onFailedCreateDelete: (event) =>
          removeFailedRequestMarker(
            event,
            () => parseCertificateProperties(event.ResourceProperties),
            requestDeps,
          ),
        ...(options.retry ? { retry: options.retry } : {}),
      },
    );
    try {
      await inner(rawEvent, lambdaContext);
    } catch (error) {
      if (isResponseDeliveryError(error) && madeHere) {
        await takeBackUndelivered(madeHere, requestDeps);
      }
      throw error;
    }
  };
}

/**
 * Hands one request to its unit. With the wiring above, the one place that
 * reads the resource's properties ({@link parseCertificateProperties},
 * {@link replacementReasons}) and builds its `Data` ({@link resourceDataOf}):
 * the units below speak provisioning types only.
 */
async function handleRequest(
  event: CustomResourceEvent,
  context: CertificateRequestContext,
  options: CertificateResourceHandlerOptions,
): Promise<HandlerResult | void> {
  switch (event.RequestType) {
    case 'Create': {
      const props = parseCertificateProperties(event.ResourceProperties);
      return answerFor(await provisionOnce(event, props, context), props);
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
      return answerFor(await handleUpdate(event, { props, old, reasons }, context), props);
    }
    case 'Delete':
      return handleDelete(
        event,
        {
          readProperties: () => parseCertificateProperties(event.ResourceProperties),
          thingNameAsSent: textField(event.ResourceProperties, 'ThingName'),
          ...(options.detachTimeoutMs !== undefined
            ? { detachTimeoutMs: options.detachTimeoutMs }
            : {}),
        },
        context,
      );
  }
}

/** The answer for a certificate: its id as the physical id, and the resource's `Data`. */
function answerFor(result: ProvisionResult, props: CertificateProperties): HandlerResult {
  return {
    physicalResourceId: result.certificateId,
    data: { ...resourceDataOf(result, props) },
  };
}
