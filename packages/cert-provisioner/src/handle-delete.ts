import type { DeleteEvent } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import { certificateIdOf, type CertificateRequestContext } from './certificate-request-context';
import { deprovision } from './deprovision';
import { describeCause } from './errors';

/** What {@link handleDelete} needs beyond the event. */
export interface DeleteRequest {
  /** Reads the properties; may throw, and a Delete goes on without them. */
  readonly readProperties: () => CertificateProperties;
  /** `ThingName` as sent, to name the thing when the properties are invalid. */
  readonly thingNameAsSent: string | undefined;
  /**
   * Longest wait for asynchronous thing detachment, in ms.
   * @default deprovision's default
   */
  readonly detachTimeoutMs?: number;
}

/**
 * A Delete: {@link deprovision} of the certificate the physical id names, and
 * of its objects. A physical id that is no certificate id is acknowledged
 * without touching anything. Invalid properties never block a stack
 * deletion: the certificate is still removed on the IoT side.
 *
 * @example
 * ```ts
 * await handleDelete(event, { readProperties: () => props, thingNameAsSent: 'sensor-1' }, context);
 * ```
 */
export async function handleDelete(
  event: DeleteEvent,
  request: DeleteRequest,
  context: CertificateRequestContext,
): Promise<void> {
  const { deps, signal } = context;
  const certificateId = certificateIdOf(event.PhysicalResourceId);
  if (certificateId === undefined) {
    deps.logger.info('Physical id is not a certificate id; nothing to delete');
    return;
  }
  let props: CertificateProperties | undefined;
  try {
    props = request.readProperties();
  } catch (error) {
    // Never block a stack deletion on properties: clean up IoT at least.
    deps.logger.warn('Delete with invalid properties: cleaning up the certificate only', {
      reason: describeCause(error),
    });
  }
  await deprovision(
    {
      certificateId,
      thingName: props?.thingName ?? request.thingNameAsSent ?? '(unknown)',
      signal,
      ...(props ? { bucketName: props.bucketName, keyPrefix: props.keyPrefix } : {}),
      ...(request.detachTimeoutMs !== undefined
        ? { detachTimeoutMs: request.detachTimeoutMs }
        : {}),
    },
    deps,
  );
}
