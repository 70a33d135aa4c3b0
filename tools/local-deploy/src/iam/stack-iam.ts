import type { LocalIam, PolicyDocument, RoleDescription } from '@thingcert/local-cloud';
import { awsManagedPolicyDocument } from './aws-managed-policies';

/** An `AWS::IAM::Role` as its resource declares it, resolved. */
export interface RoleDeclaration {
  /** @default '/' */
  readonly path: string;
  /** Its inline `Policies`, by `PolicyName`. */
  readonly inline: ReadonlyMap<string, PolicyDocument>;
  /** Its `ManagedPolicyArns`. */
  readonly managedPolicyArns: readonly string[];
  /** Its `AssumeRolePolicyDocument`: who may assume it. */
  readonly trustPolicy: unknown;
}

/**
 * An identity policy another resource puts on roles: an `AWS::IAM::Policy` (an inline policy of
 * each role it names, as PutRolePolicy makes it) or an `AWS::IAM::ManagedPolicy` (attached to the
 * roles its `Roles` name, and to every role whose `ManagedPolicyArns` names it).
 */
export interface PolicyAttachment {
  readonly kind: 'inline' | 'managed';
  /** The policy's name on the role (`PolicyName`, or the managed policy's name). */
  readonly name: string;
  readonly document: PolicyDocument;
  /** Role names (what `Ref` of a role gives). */
  readonly roles: readonly string[];
}

/** What an IAM change of the stack was refused for. */
export class StackIamError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StackIamError';
  }
}

/** AWS allows one role per instance profile ("InstanceSessionsPerInstanceProfile"). */
const MAX_ROLES_PER_INSTANCE_PROFILE = 1;

/**
 * The IAM of one stack as the local IAM must see it: each role with every identity policy it
 * holds now (its inline policies, the `AWS::IAM::Policy` resources naming it, the managed policies
 * attached to it), the instance profiles and their roles. Each change is written to the local
 * IAM at once, role by role, as the resource that makes it is created, updated or deleted: the
 * engine calls it in CloudFormation's order, so a policy updated in the update phase is in force
 * before a cleanup Delete runs, exactly as on AWS.
 *
 * The local IAM has no managed policies: a managed policy's document is put on each role it is
 * attached to, named `managed@<policy name>`. AWS managed policies are known by document only for
 * those in `aws-managed-policies.ts`; any other grants nothing (logged once).
 */
export class StackIam {
  private readonly roles = new Map<string, RoleDeclaration>();
  /** By the physical id of the `AWS::IAM::Policy`, or the ARN of the managed policy. */
  private readonly attachments = new Map<string, PolicyAttachment>();
  private readonly instanceProfiles = new Map<string, readonly string[]>();
  /** Each role's writes to the local IAM, one after the other (never a stale one last). */
  private readonly writes = new Map<string, Promise<unknown>>();
  private readonly unknownPolicies = new Set<string>();

  constructor(
    private readonly iam: LocalIam,
    private readonly log: (line: string) => void,
  ) {}

  /** Creates or updates a role with what its resource declares; answers its ARN and id. */
  async putRole(roleName: string, declaration: RoleDeclaration): Promise<RoleDescription> {
    const before = this.roles.get(roleName);
    this.roles.set(roleName, declaration);
    try {
      return await this.write(roleName);
    } catch (error) {
      if (before === undefined) this.roles.delete(roleName);
      else this.roles.set(roleName, before);
      throw error;
    }
  }

  /** Deletes a role (its sessions then may do nothing, as on AWS). */
  async deleteRole(roleName: string): Promise<void> {
    this.roles.delete(roleName);
    await this.serialized(roleName, async () => {
      if ((await this.iam.getRole(roleName)) !== undefined) await this.iam.deleteRole(roleName);
    });
  }

  /**
   * Puts (or replaces) the policy `id` on the roles it names now, and takes it off those it named
   * before.
   * @throws StackIamError when it names a role this stack does not hold (IAM's NoSuchEntity).
   */
  async putAttachment(id: string, attachment: PolicyAttachment): Promise<void> {
    const missing = attachment.roles.find((role) => !this.roles.has(role));
    if (missing !== undefined) {
      throw new StackIamError(`NoSuchEntity: The role with name ${missing} cannot be found.`);
    }
    const before = this.attachments.get(id);
    this.attachments.set(id, attachment);
    const affected = this.rolesHolding(id, before, attachment);
    try {
      await Promise.all(affected.map((role) => this.write(role)));
    } catch (error) {
      if (before === undefined) this.attachments.delete(id);
      else this.attachments.set(id, before);
      await Promise.allSettled(affected.map((role) => this.write(role)));
      throw error;
    }
  }

  /** Takes the policy `id` off every role that holds it. */
  async deleteAttachment(id: string): Promise<void> {
    const before = this.attachments.get(id);
    if (before === undefined) return;
    const affected = this.rolesHolding(id, before);
    this.attachments.delete(id);
    await Promise.all(affected.map((role) => this.write(role)));
  }

  /**
   * Records an instance profile and its role.
   * @throws StackIamError for more than one role, or a role this stack does not hold.
   */
  putInstanceProfile(name: string, roles: readonly string[]): void {
    if (roles.length > MAX_ROLES_PER_INSTANCE_PROFILE) {
      throw new StackIamError(
        `LimitExceeded: Cannot exceed quota for InstanceSessionsPerInstanceProfile: ${MAX_ROLES_PER_INSTANCE_PROFILE}`,
      );
    }
    const missing = roles.find((role) => !this.roles.has(role));
    if (missing !== undefined) {
      throw new StackIamError(`NoSuchEntity: The role with name ${missing} cannot be found.`);
    }
    this.instanceProfiles.set(name, roles);
  }

  deleteInstanceProfile(name: string): void {
    this.instanceProfiles.delete(name);
  }

  /** The role of an instance profile, by the profile's name (what `Ref` gives); none: undefined. */
  roleOfInstanceProfile(name: string): string | undefined {
    return this.instanceProfiles.get(name)?.[0];
  }

  /**
   * Whether `service` (e.g. `lambda.amazonaws.com`) may assume the role: an `Allow` of
   * `sts:AssumeRole` to that service principal in its trust policy.
   */
  trusts(roleName: string, service: string): boolean {
    const trust = this.roles.get(roleName)?.trustPolicy as { Statement?: unknown } | undefined;
    return asList(trust?.Statement).some((statement) => {
      const { Effect, Action, Principal } = (statement ?? {}) as Record<string, unknown>;
      const actions = asList(Action);
      const services = asList((Principal as { Service?: unknown } | undefined)?.Service);
      return (
        Effect === 'Allow' &&
        actions.some((action) => action === 'sts:AssumeRole' || action === 'sts:*') &&
        services.includes(service)
      );
    });
  }

  /** The roles that hold attachment `id` before or after a change. */
  private rolesHolding(id: string, ...versions: (PolicyAttachment | undefined)[]): string[] {
    const roles = new Set(versions.flatMap((version) => version?.roles ?? []));
    for (const [name, role] of this.roles) if (role.managedPolicyArns.includes(id)) roles.add(name);
    return [...roles].filter((role) => this.roles.has(role));
  }

  /** Writes a role with every policy it holds now (after the writes queued before it). */
  private write(roleName: string): Promise<RoleDescription> {
    return this.serialized(roleName, async () => {
      const role = this.roles.get(roleName);
      if (role === undefined) {
        throw new StackIamError(`NoSuchEntity: The role with name ${roleName} cannot be found.`);
      }
      return this.iam.putRole({ roleName, path: role.path, policies: this.policiesOf(roleName) });
    });
  }

  private serialized<T>(roleName: string, step: () => Promise<T>): Promise<T> {
    const previous = this.writes.get(roleName) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(step);
    this.writes.set(roleName, next);
    return next;
  }

  /** Every identity policy the role holds now, by its name on the role. */
  private policiesOf(roleName: string): Record<string, PolicyDocument> {
    const role = this.roles.get(roleName)!;
    const policies: Record<string, PolicyDocument> = Object.fromEntries(role.inline);
    const managed = new Set(role.managedPolicyArns);
    for (const [id, attachment] of this.attachments) {
      if (!attachment.roles.includes(roleName)) continue;
      // An AWS::IAM::Policy is PutRolePolicy: the same names as the role's own inline policies.
      if (attachment.kind === 'inline') policies[attachment.name] = attachment.document;
      else managed.add(id);
    }
    for (const arn of managed) {
      const stackPolicy = this.attachments.get(arn);
      const document = stackPolicy?.document ?? awsManagedPolicyDocument(arn);
      const name = stackPolicy?.name ?? arn.split('/').pop() ?? arn;
      if (document !== undefined) policies[`managed@${name}`] = document;
      else this.warnUnknown(arn);
    }
    return policies;
  }

  private warnUnknown(arn: string): void {
    if (this.unknownPolicies.has(arn)) return;
    this.unknownPolicies.add(arn);
    this.log(`managed policy ${arn} is not known locally: it grants nothing here`);
  }
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
