import type { PolicyDocument } from './policy-documents';

/** A role to create or update with {@link LocalIam.putRole}. */
export interface PutRoleInput {
  /** IAM role name (`[\w+=,.@-]{1,64}`), e.g. the physical name CloudFormation gave it. */
  roleName: string;
  /** IAM path of the role. @default '/' */
  path?: string;
  /**
   * Every identity policy of the role by name (inline policies, `AWS::IAM::Policy` documents,
   * managed policies whose document is known), replacing the ones it had.
   * @default {} (a role that may do nothing)
   */
  policies?: Record<string, PolicyDocument | string>;
}

/** A role as the local IAM keeps it. */
export interface RoleDescription {
  roleName: string;
  /** `arn:aws:iam::<account>:role<path><name>`: what `aws:PrincipalArn` is for its sessions. */
  roleArn: string;
  /** Unique id (`AROA…`), the first half of `aws:userid` for its sessions. */
  roleId: string;
  /** Its identity policies by name. */
  policies: Record<string, PolicyDocument>;
}

/** Input of {@link LocalIam.assumeRole}. */
export interface AssumeRoleInput {
  roleName: string;
  /** Role session name (`[\w+=,.@-]{2,64}`), the last part of the assumed-role ARN. */
  sessionName: string;
  /**
   * Seconds until the credentials expire (AWS allows 900–43200).
   * @default undefined: they do not expire, so a long local run needs no refresh
   */
  durationSeconds?: number;
}

/** Temporary credentials of one role session, as STS AssumeRole returns them. */
export interface RoleSessionCredentials {
  /** `ASIA…`, 20 characters. */
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /**
   * When the credentials expire, or undefined when the session does not. A `Date`, so that the
   * whole object can be given to an SDK client as `credentials`.
   */
  expiration: Date | undefined;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`: the principal of every request. */
  assumedRoleArn: string;
  roleArn: string;
  /**
   * The same credentials for a Lambda-style environment:
   * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
   */
  env: Record<string, string>;
  /**
   * For a process that should find them as an instance or container would (the SDK's default
   * chain reads these): `AWS_CONTAINER_CREDENTIALS_FULL_URI` (the admin endpoint, loopback) and
   * `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
   */
  containerEnv: Record<string, string>;
}

/** A KMS key the local S3 may be asked to use, for {@link LocalIam.putKmsKey}. */
export interface PutKmsKeyInput {
  /** Key id (a UUID in AWS). */
  keyId: string;
  /** Alias names, `alias/…`, that resolve to it. @default [] */
  aliases?: string[];
  /**
   * Its key policy. @default AWS's default key policy: the account root may do `kms:*`,
   * so identity policies decide
   */
  keyPolicy?: PolicyDocument | string;
}

/** Input of {@link LocalIam.simulatePrincipalPolicy}. */
export interface SimulatePrincipalPolicyInput {
  roleName: string;
  /** `service:Action`, e.g. `kms:Decrypt`. */
  action: string;
  /** The resource ARN, or `*`. */
  resource: string;
  /** Condition keys of the simulated request, e.g. `{ 'kms:ViaService': 's3.us-east-1.amazonaws.com' }`. @default {} */
  context?: Record<string, string | string[]>;
  /**
   * The resource's policy, evaluated with the role's identity policies.
   * @default for a KMS key ARN, the key policy given to `putKmsKey` (or AWS's default); none otherwise
   */
  resourcePolicy?: PolicyDocument;
}

/** IAM's answer to a simulation (`EvalDecision` of SimulatePrincipalPolicy) and AWS's wording of why. */
export interface SimulationResult {
  decision: 'allowed' | 'explicitDeny' | 'implicitDeny';
  /** Empty when allowed; else e.g. "because no identity-based policy allows the kms:Decrypt action". */
  reason: string;
}

/**
 * IAM of the local cloud: roles with their identity policies, sessions of those roles
 * (credentials the local S3 and IoT control plane authenticate and authorize), and the KMS
 * keys SSE-KMS objects name. Policies may be replaced at any time; the next request is
 * evaluated against the new ones. The same interface works in process (`cloud.iam`) and from
 * another process (`connectLocalIam(cloud.admin)` over the admin endpoint).
 *
 * @example
 * ```ts
 * await cloud.iam.putRole({ roleName: 'device-a', policies: { Read: readOwnObjects } });
 * const session = await cloud.iam.assumeRole({ roleName: 'device-a', sessionName: 'boot-1' });
 * const s3 = new S3Client({ endpoint: cloud.s3Endpoint, region: cloud.region, credentials: session });
 * await cloud.iam.putRolePolicy('device-a', 'Read', narrowerPolicy); // the next request sees it
 * ```
 */
export interface LocalIam {
  /** Creates the role, or replaces its path and every identity policy. */
  putRole(input: PutRoleInput): Promise<RoleDescription>;
  /** The role, or undefined when there is none. */
  getRole(roleName: string): Promise<RoleDescription | undefined>;
  /** Deletes the role; its sessions still authenticate but have no policy (as AWS: denied). */
  deleteRole(roleName: string): Promise<void>;
  /** Adds or replaces one identity policy of the role. */
  putRolePolicy(
    roleName: string,
    policyName: string,
    document: PolicyDocument | string,
  ): Promise<void>;
  /** Removes one identity policy of the role (no error when it has none of that name). */
  deleteRolePolicy(roleName: string, policyName: string): Promise<void>;
  /** New credentials for a session of the role. */
  assumeRole(input: AssumeRoleInput): Promise<RoleSessionCredentials>;
  /**
   * Registers (or replaces) a KMS key: its aliases (an alias it had and is not in `aliases` no
   * longer resolves) and key policy.
   */
  putKmsKey(input: PutKmsKeyInput): Promise<{ keyArn: string }>;
  /**
   * May the role do `action` on `resource`? IAM's SimulatePrincipalPolicy, evaluated as the
   * requests of the role's sessions are: for what no request to the local cloud can ask (it has
   * no KMS API: a `kms:Decrypt` outside S3).
   */
  simulatePrincipalPolicy(input: SimulatePrincipalPolicyInput): Promise<SimulationResult>;
}
