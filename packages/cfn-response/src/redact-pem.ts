/**
 * One PEM block, from its `-----BEGIN …-----` line to its `-----END …-----`
 * line, or to the end of the text when the block was cut off (a truncated
 * message still carries key material).
 */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;

/**
 * Replaces every PEM block in `text` (certificate, public or private key, CSR)
 * with `[redacted PEM]`, so key material cannot leak through an error message,
 * a log line or the `Reason` of a FAILED response. A block without its END
 * line is redacted to the end of the text. Text outside the blocks is kept as
 * it was, line breaks included.
 *
 * @example
 * ```ts
 * redactPem('bad key -----BEGIN PRIVATE KEY-----\nMIIE…\n-----END PRIVATE KEY----- here');
 * // 'bad key [redacted PEM] here'
 * ```
 */
export function redactPem(text: string): string {
  return text.replace(PEM_BLOCK, '[redacted PEM]');
}
