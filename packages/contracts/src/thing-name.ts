/**
 * Thing names AWS IoT accepts (`CreateThing`): 1–128 of `[a-zA-Z0-9:_-]`. The
 * construct checks it at synth time and the provisioner again on every event,
 * so both must use this one pattern.
 *
 * @example
 * ```ts
 * THING_NAME_PATTERN.test('sensor-1'); // true
 * ```
 */
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;
