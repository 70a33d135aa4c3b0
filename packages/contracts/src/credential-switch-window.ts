/**
 * CloudFormation type of the credential switch window: a custom resource,
 * served by the certificate provisioner's function, that holds a rotation's
 * update phase open long enough for the device to move to its new
 * certificate before CloudFormation's cleanup detaches and deletes the old
 * one.
 *
 * Why it exists: in a rotation, CloudFormation creates the new certificate
 * (the provisioner moves the thing's pointer to it) and its attachments, and
 * only in the cleanup phase deletes the old attachments and certificate. A
 * device still on the old certificate when its policy is detached is refused
 * `iot:Receive` on the messages already on their way to it (AWS IoT checks it
 * on every delivery) and loses them. The window sits after the new
 * attachments (it depends on them) and waits, on each rotation, for one
 * pointer check of the device and a margin, so the device switches first and
 * keeps its persistent session.
 */
export const CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE = 'Custom::ThingcertCredentialSwitchWindow';

/** The window resource's properties, as the template spells them (values arrive as strings). */
export interface CredentialSwitchWindowProperties {
  /** The certificate the device must move to; a new one (a rotation) opens the window. */
  readonly CertificateId: string;
  /** How long the window stays open, in whole seconds (see {@link credentialSwitchWindowSeconds}). */
  readonly WaitSeconds: string | number;
}

/**
 * Each property's name in the template, by the name code uses for it.
 */
export const CREDENTIAL_SWITCH_WINDOW_PROPERTY = {
  certificateId: 'CertificateId',
  waitSeconds: 'WaitSeconds',
} as const satisfies Record<string, keyof CredentialSwitchWindowProperties>;

/**
 * How often the device runner checks its credential pointer by default
 * (a conditional GET, answered 304 while nothing changed).
 */
export const DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS = 30_000;

/** Longest window: well inside the provisioner function's shortest timeout (1 minute) plus its margins. */
export const MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS = 45;

/** Time the device needs after its check to read the new pair and reconnect. */
const SWITCH_MARGIN_SECONDS = 3;

/** Longest device check interval whose switch window fits {@link MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS}. */
export const MAX_CREDENTIAL_CHECK_INTERVAL_MS =
  (MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS - SWITCH_MARGIN_SECONDS) * 1000;

/**
 * The window for a device checking its pointer every `checkIntervalMs`: one
 * full interval (the device may have checked just before the pointer moved)
 * and a margin to fetch the pair and reconnect.
 *
 * @throws RangeError when the window would exceed {@link MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS}
 * (check more often).
 *
 * @example
 * ```ts
 * credentialSwitchWindowSeconds(30_000); // 33
 * ```
 */
export function credentialSwitchWindowSeconds(checkIntervalMs: number): number {
  const seconds = Math.ceil(checkIntervalMs / 1000) + SWITCH_MARGIN_SECONDS;
  if (
    !Number.isFinite(seconds) ||
    checkIntervalMs <= 0 ||
    seconds > MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS
  ) {
    throw new RangeError(
      `a credential check interval of ${checkIntervalMs} ms needs a ${seconds} s switch window; ` +
        `the most is ${MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS} s: check at most every ${MAX_CREDENTIAL_CHECK_INTERVAL_MS} ms`,
    );
  }
  return seconds;
}
