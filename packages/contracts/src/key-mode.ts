/**
 * Who makes a device's key pair: `server` = AWS IoT makes it
 * (`CreateKeysAndCertificate`, always RSA-2048); `csr` = the provisioner makes
 * the key and AWS IoT signs a CSR (`CreateCertificateFromCsr`), so the key
 * never leaves it.
 *
 * @example
 * ```ts
 * KEY_MODES.includes('csr'); // true
 * ```
 */
export const KEY_MODES = ['server', 'csr'] as const;

/** One of {@link KEY_MODES}. */
export type KeyMode = (typeof KEY_MODES)[number];

/** Key types a device certificate can have. `server` mode makes `RSA_2048` only. */
export const KEY_ALGORITHMS = ['EC_P256', 'RSA_2048'] as const;

/** One of {@link KEY_ALGORITHMS}. */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** `true` when `value` is one of {@link KEY_MODES}. */
export function isKeyMode(value: unknown): value is KeyMode {
  return (KEY_MODES as readonly unknown[]).includes(value);
}

/** `true` when `value` is one of {@link KEY_ALGORITHMS}. */
export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly unknown[]).includes(value);
}

/**
 * The key algorithm a certificate gets when none is asked for: the only one
 * `server` mode can make, and the smaller, faster EC key in `csr` mode. The
 * construct and the provisioner both apply it, so a template without
 * `KeyAlgorithm` means the same on both sides.
 *
 * @example
 * ```ts
 * defaultKeyAlgorithm('csr'); // 'EC_P256'
 * ```
 */
export function defaultKeyAlgorithm(keyMode: KeyMode): KeyAlgorithm {
  return keyMode === 'server' ? 'RSA_2048' : 'EC_P256';
}
