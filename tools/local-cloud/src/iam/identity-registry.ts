import { randomBytes, timingSafeEqual } from 'node:crypto';
import { LocalIamError, MalformedPolicyDocumentError } from '../errors';
import { AccessEvaluator } from './access-evaluator';
import { DEFAULT_KEY_POLICY, KmsKeyring } from './kms-keyring';
import type {
  AssumeRoleInput,
  LocalIam,
  PutKmsKeyInput,
  PutRoleInput,
  RoleDescription,
  RoleSessionCredentials,
  SimulatePrincipalPolicyInput,
  SimulationResult,
} from './local-iam';
import { parseIdentityPolicy, type PolicyDocument } from './policy-documents';
import { simulatePrincipalPolicy } from './policy-simulation';

/** Access key ids the registry mints, as STS does for temporary credentials: `ASIA` + 16 base32. */
const SESSION_KEY_ID = /^ASIA[A-Z2-7]{16}$/;
// IAM's name rules (IAM API reference, CreateRole / AssumeRole).
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const ROLE_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;

/** Credentials that are the admin: allowed everything, as before IAM was enforced. */
export interface AdminCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A role session: who signed a request with registered credentials. */
export interface RoleSessionPrincipal {
  kind: 'role-session';
  accessKeyId: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  assumedRoleArn: string;
  /** `arn:aws:iam::<account>:role/<path><role>` (`aws:PrincipalArn`) */
  roleArn: string;
  /** `AROA…:<session>` (`aws:userid`) */
  userId: string;
  /** The role's identity policies now (empty once the role is deleted). */
  policies(): PolicyDocument[];
}

/** The caller of a request: the admin, or a session of a registered role. */
export type Principal = { kind: 'admin' } | RoleSessionPrincipal;

/** What an access key id is to the registry. */
export type AccessKeyLookup =
  | { kind: 'admin'; secretAccessKey: string | undefined }
  | {
      kind: 'session';
      secretAccessKey: string;
      sessionToken: string;
      expiresAt: number | undefined;
      principal: RoleSessionPrincipal;
    }
  | { kind: 'unknown' };

interface Role {
  name: string;
  path: string;
  id: string;
  policies: Map<string, PolicyDocument>;
}

interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  containerToken: string;
  roleName: string;
  sessionName: string;
  expiresAt: number | undefined;
  principal: RoleSessionPrincipal;
}

/** Options of {@link IdentityRegistry}. */
export interface IdentityRegistryOptions {
  accountId: string;
  region: string;
  /**
   * The admin identity. Given: only these keys are the admin (their signatures verified) and
   * every other key is unknown. @default undefined: every access key id not of the `ASIA…`
   * form this registry mints is the admin, with any secret (what tests and people use today)
   */
  adminCredentials?: readonly AdminCredentials[];
  /** What decides simulations (the one S3 and IoT use). @default a new one for the account and region */
  evaluator?: AccessEvaluator;
}

/**
 * The local IAM's state: roles and their identity policies, role sessions by access key id,
 * KMS keys. In memory only: whoever registers identities (the local deployer) does it again
 * after a restart.
 */
export class IdentityRegistry implements LocalIam {
  readonly kms: KmsKeyring;
  private readonly roles = new Map<string, Role>();
  private readonly sessions = new Map<string, Session>();
  private readonly admins: Map<string, string> | undefined;
  private readonly evaluator: AccessEvaluator;
  /** Base URL of the container-credentials route, set once the admin endpoint listens. */
  containerCredentialsBase: string | undefined;

  constructor(private readonly options: IdentityRegistryOptions) {
    this.kms = new KmsKeyring(options.accountId, options.region);
    this.evaluator = options.evaluator ?? new AccessEvaluator(options.accountId, options.region);
    this.admins =
      options.adminCredentials === undefined
        ? undefined
        : new Map(options.adminCredentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  }

  /**
   * Whether the admin is only the `adminCredentials` given: then an identity the registry does
   * not know is refused, not treated as the admin.
   */
  get adminRestricted(): boolean {
    return this.admins !== undefined;
  }

  /** Who an access key id belongs to. */
  lookup(accessKeyId: string): AccessKeyLookup {
    const session = this.sessions.get(accessKeyId);
    if (session !== undefined) {
      return {
        kind: 'session',
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        expiresAt: session.expiresAt,
        principal: session.principal,
      };
    }
    if (this.admins !== undefined) {
      const secret = this.admins.get(accessKeyId);
      return secret === undefined
        ? { kind: 'unknown' }
        : { kind: 'admin', secretAccessKey: secret };
    }
    return SESSION_KEY_ID.test(accessKeyId)
      ? { kind: 'unknown' }
      : { kind: 'admin', secretAccessKey: undefined };
  }

  /** The session for a container-credentials request, if `token` is its authorization token. */
  sessionForContainerToken(accessKeyId: string, token: string): RoleSessionCredentials | undefined {
    const session = this.sessions.get(accessKeyId);
    if (session === undefined || !sameSecret(session.containerToken, token)) return undefined;
    return this.credentialsOf(session);
  }

  putRole(input: PutRoleInput): Promise<RoleDescription> {
    return settle(() => {
      requireName(ROLE_NAME, input.roleName, 'roleName');
      const path = input.path ?? '/';
      if (!ROLE_PATH.test(path) || path.length > 512) {
        throw new LocalIamError('ValidationError', `Invalid path ${JSON.stringify(path)}`);
      }
      const policies = new Map<string, PolicyDocument>();
      for (const [name, document] of Object.entries(input.policies ?? {})) {
        policies.set(requirePolicyName(name), parsePolicy(name, document));
      }
      const existing = this.roles.get(input.roleName);
      const role: Role = {
        name: input.roleName,
        path,
        id: existing?.id ?? mintId('AROA', 17),
        policies,
      };
      this.roles.set(role.name, role);
      return this.describe(role);
    });
  }

  getRole(roleName: string): Promise<RoleDescription | undefined> {
    const role = this.roles.get(roleName);
    return Promise.resolve(role === undefined ? undefined : this.describe(role));
  }

  deleteRole(roleName: string): Promise<void> {
    return settle(() => {
      this.role(roleName);
      this.roles.delete(roleName);
    });
  }

  putRolePolicy(
    roleName: string,
    policyName: string,
    document: PolicyDocument | string,
  ): Promise<void> {
    return settle(() => {
      this.role(roleName).policies.set(
        requirePolicyName(policyName),
        parsePolicy(policyName, document),
      );
    });
  }

  deleteRolePolicy(roleName: string, policyName: string): Promise<void> {
    return settle(() => {
      this.role(roleName).policies.delete(policyName);
    });
  }

  assumeRole(input: AssumeRoleInput): Promise<RoleSessionCredentials> {
    return settle(() => {
      const role = this.role(input.roleName);
      requireName(SESSION_NAME, input.sessionName, 'sessionName');
      const duration = input.durationSeconds;
      if (
        duration !== undefined &&
        !(Number.isInteger(duration) && duration >= 900 && duration <= 43_200)
      ) {
        throw new LocalIamError(
          'ValidationError',
          'durationSeconds must be an integer from 900 to 43200',
        );
      }
      const accessKeyId = mintId('ASIA', 16);
      const roleArn = this.roleArn(role);
      const roleName = role.name;
      const principal: RoleSessionPrincipal = {
        kind: 'role-session',
        accessKeyId,
        assumedRoleArn: `arn:aws:sts::${this.options.accountId}:assumed-role/${roleName}/${input.sessionName}`,
        roleArn,
        userId: `${role.id}:${input.sessionName}`,
        // Looked up on every request, so replaced policies apply to the next one; a role deleted
        // (or deleted and created again, which AWS gives a new unique id) grants nothing.
        policies: () => {
          const current = this.roles.get(roleName);
          return current === undefined || current.id !== role.id
            ? []
            : [...current.policies.values()];
        },
      };
      const session: Session = {
        accessKeyId,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(96).toString('base64'),
        containerToken: randomBytes(24).toString('hex'),
        roleName,
        sessionName: input.sessionName,
        expiresAt: duration === undefined ? undefined : Date.now() + duration * 1000,
        principal,
      };
      this.sessions.set(accessKeyId, session);
      return this.credentialsOf(session);
    });
  }

  putKmsKey(input: PutKmsKeyInput): Promise<{ keyArn: string }> {
    return settle(() => {
      const keyPolicy =
        input.keyPolicy === undefined
          ? DEFAULT_KEY_POLICY(this.options.accountId)
          : parseKeyPolicy(input.keyPolicy);
      return { keyArn: this.kms.put(input.keyId, input.aliases ?? [], keyPolicy) };
    });
  }

  async simulatePrincipalPolicy(input: SimulatePrincipalPolicyInput): Promise<SimulationResult> {
    const role = this.role(input.roleName);
    const roleArn = this.roleArn(role);
    // The role itself is the principal, as in IAM's simulator; its policies as they are now.
    const principal: RoleSessionPrincipal = {
      kind: 'role-session',
      accessKeyId: '',
      assumedRoleArn: roleArn,
      roleArn,
      userId: role.id,
      policies: () => [...role.policies.values()],
    };
    return simulatePrincipalPolicy(this.evaluator, this.kms, principal, input);
  }

  private role(roleName: string): Role {
    const role = this.roles.get(roleName);
    if (role === undefined) {
      throw new LocalIamError('NoSuchEntity', `The role with name ${roleName} cannot be found.`);
    }
    return role;
  }

  private roleArn(role: Role): string {
    return `arn:aws:iam::${this.options.accountId}:role${role.path}${role.name}`;
  }

  private describe(role: Role): RoleDescription {
    return {
      roleName: role.name,
      roleArn: this.roleArn(role),
      roleId: role.id,
      policies: Object.fromEntries(role.policies),
    };
  }

  private credentialsOf(session: Session): RoleSessionCredentials {
    const { accessKeyId, secretAccessKey, sessionToken } = session;
    const containerEnv: Record<string, string> =
      this.containerCredentialsBase === undefined
        ? {}
        : {
            AWS_CONTAINER_CREDENTIALS_FULL_URI: `${this.containerCredentialsBase}/${accessKeyId}`,
            AWS_CONTAINER_AUTHORIZATION_TOKEN: session.containerToken,
          };
    return {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      expiration: session.expiresAt === undefined ? undefined : new Date(session.expiresAt),
      assumedRoleArn: session.principal.assumedRoleArn,
      roleArn: session.principal.roleArn,
      env: {
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_SESSION_TOKEN: sessionToken,
      },
      containerEnv,
    };
  }
}

/** Compares two secrets in constant time. */
export function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Runs a synchronous registry change and answers as a promise (the interface is async for the HTTP client). */
function settle<T>(change: () => T): Promise<T> {
  try {
    return Promise.resolve(change());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `prefix` + `length` random base32 characters, the shape of AWS's key and role ids. */
function mintId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += BASE32[byte % 32];
  return id;
}

function requireName(pattern: RegExp, value: string, field: string): void {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new LocalIamError('ValidationError', `Invalid ${field} ${JSON.stringify(value)}`);
  }
}

function requirePolicyName(name: string): string {
  requireName(/^[\w+=,.@-]{1,128}$/, name, 'policyName');
  return name;
}

function parsePolicy(name: string, document: PolicyDocument | string): PolicyDocument {
  try {
    return parseIdentityPolicy(document);
  } catch (error) {
    if (!(error instanceof MalformedPolicyDocumentError)) throw error;
    throw new LocalIamError('MalformedPolicyDocument', `Policy ${name}: ${error.message}`, {
      cause: error,
    });
  }
}

function parseKeyPolicy(document: PolicyDocument | string): PolicyDocument {
  if (typeof document !== 'string') return document;
  try {
    return JSON.parse(document) as PolicyDocument;
  } catch (error) {
    throw new LocalIamError('MalformedPolicyDocument', 'The key policy is not valid JSON', {
      cause: error,
    });
  }
}
