/** Credentials `--keep` prints for one identity. */
export interface KeptIdentity {
  /** Prefix of its variables, e.g. `THINGCERT_PROVISIONER` → `THINGCERT_PROVISIONER_AWS_ACCESS_KEY_ID`. */
  readonly prefix: string;
  /** Who it is, for the comment line above its variables. */
  readonly description: string;
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/** The variables of one identity, `<prefix>_AWS_ACCESS_KEY_ID`… (no session token for the admin). */
function variablesOf({ prefix, credentials }: KeptIdentity): Array<[string, string]> {
  return [
    [`${prefix}_AWS_ACCESS_KEY_ID`, credentials.accessKeyId],
    [`${prefix}_AWS_SECRET_ACCESS_KEY`, credentials.secretAccessKey],
    ...(credentials.sessionToken === undefined
      ? []
      : [[`${prefix}_AWS_SESSION_TOKEN`, credentials.sessionToken] as [string, string]]),
  ];
}

/** Quotes a value for a POSIX shell when it needs it (session tokens hold `+`, `/`, `=`). */
function shellValue(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `export` lines `pnpm start --keep` prints: the environment that points the AWS CLI, the
 * SDKs and `pnpm device-runner` at the stack (its own `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
 * are the admin's), then each identity's credentials under its prefix, and how to act as one.
 *
 * @example
 * ```ts
 * keepExports({ AWS_REGION: 'us-east-1' }, [
 *   { prefix: 'THINGCERT_DEVICE_1', description: 'device thingcert-device-1 (role R)', credentials },
 * ]);
 * // ['export AWS_REGION=us-east-1', '# device thingcert-device-1 (role R)',
 * //  'export THINGCERT_DEVICE_1_AWS_ACCESS_KEY_ID=ASIA…', …, '# act as one of them: …']
 * ```
 */
export function keepExports(
  env: Readonly<Record<string, string>>,
  identities: readonly KeptIdentity[],
  /** The command of the "act as one of them" hint. @default 'aws s3 ls' */
  exampleCommand = 'aws s3 ls',
): string[] {
  const lines = Object.entries(env).map(([name, value]) => `export ${name}=${shellValue(value)}`);
  for (const identity of identities) {
    lines.push(`# ${identity.description}`);
    for (const [name, value] of variablesOf(identity)) {
      lines.push(`export ${name}=${shellValue(value)}`);
    }
  }
  const example = identities.find((identity) => identity.credentials.sessionToken !== undefined);
  if (example !== undefined) {
    const as = variablesOf(example)
      .map(([name]) => `${name.slice(example.prefix.length + 1)}=$${name}`)
      .join(' ');
    lines.push(`# act as one of them, e.g.: ${as} ${exampleCommand}`);
  }
  return lines;
}
