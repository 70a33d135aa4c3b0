import { randomBytes } from 'node:crypto';
import type { PolicyDocument } from '@thingcert/local-cloud';
import type { PolicyAttachment, RoleDeclaration, StackIam } from '../iam/stack-iam';
import { templateOrGeneratedName } from '../physical-names';
import {
  runStep,
  type ProvisionedResource,
  type ResourceProvider,
  type ResourceRequest,
  type StackEnvironment,
} from '../resource-provider';

/** IAM name limits: roles 64 characters, managed policies and instance profiles 128. */
const MAX_ROLE_NAME = 64;
const MAX_NAME = 128;

/** A unique id in IAM's format (`AROA…`, `ANPA…`, `AIPA…`): a prefix and 17 base32 characters. */
function iamId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return prefix + [...randomBytes(17)].map((byte) => alphabet[byte % 32]).join('');
}

function globalArn(stack: StackEnvironment, resource: string): string {
  return `arn:aws:iam::${stack.accountId}:${resource}`;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function document(value: unknown): PolicyDocument {
  return (typeof value === 'string' ? JSON.parse(value) : (value ?? {})) as PolicyDocument;
}

function pathOf(properties: Readonly<Record<string, unknown>>): string {
  return typeof properties.Path === 'string' ? properties.Path : '/';
}

/** What an `AWS::IAM::Role`'s properties declare. */
function roleDeclaration(properties: Readonly<Record<string, unknown>>): RoleDeclaration {
  const inline = new Map<string, PolicyDocument>();
  for (const policy of Array.isArray(properties.Policies) ? properties.Policies : []) {
    const { PolicyName, PolicyDocument: body } = policy as Record<string, unknown>;
    inline.set(String(PolicyName), document(body));
  }
  return {
    path: pathOf(properties),
    inline,
    managedPolicyArns: stringList(properties.ManagedPolicyArns),
    trustPolicy: properties.AssumeRolePolicyDocument,
  };
}

/**
 * `AWS::IAM::Role`: a role in the local IAM, named as CloudFormation names it
 * (`RoleName`, or `<stack>-<logical id>-<random>` within 64 characters), with its inline
 * policies and the documents of its managed policies. `Ref` gives the name, `Arn` and `RoleId`
 * what IAM answers. A change of `Policies` or `ManagedPolicyArns` is in force for the next
 * request of every session of the role.
 */
export function iamRoleProvider(stackIam: StackIam, stack: StackEnvironment): ResourceProvider {
  const put = async (
    { logicalId, properties }: ResourceRequest,
    roleName: string,
  ): Promise<ProvisionedResource> => {
    const role = await runStep(logicalId, 'PutRole', () =>
      stackIam.putRole(roleName, roleDeclaration(properties)),
    );
    return { physicalId: roleName, attributes: { Arn: role.roleArn, RoleId: role.roleId } };
  };
  return {
    async create(request) {
      const { logicalId, properties } = request;
      const name = templateOrGeneratedName(
        properties.RoleName,
        stack.stackName,
        logicalId,
        MAX_ROLE_NAME,
      );
      const made = await put(request, name);
      stack.log(`created ${logicalId} (role ${name})`);
      return made;
    },
    update: (request, current) => put(request, current.physicalId),
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeleteRole', () => stackIam.deleteRole(physicalId));
    },
  };
}

/** How one kind of policy resource puts its document on roles (see {@link policyAttachmentProvider}). */
interface PolicyResourceKind {
  readonly kind: PolicyAttachment['kind'];
  readonly putStep: string;
  readonly deleteStep: string;
  /** The physical id and attributes of a new resource of this kind. */
  identify(request: ResourceRequest): { id: string; attributes: Record<string, unknown> };
  /** The policy's name on the roles. */
  nameOf(id: string, properties: Readonly<Record<string, unknown>>): string;
}

/** A policy resource whose `PolicyDocument` goes on the roles its `Roles` name. */
function policyAttachmentProvider(stackIam: StackIam, kind: PolicyResourceKind): ResourceProvider {
  const put = async (
    { logicalId, properties }: ResourceRequest,
    id: string,
    attributes: Readonly<Record<string, unknown>>,
  ): Promise<ProvisionedResource> => {
    await runStep(logicalId, kind.putStep, () =>
      stackIam.putAttachment(id, {
        kind: kind.kind,
        name: kind.nameOf(id, properties),
        document: document(properties.PolicyDocument),
        roles: stringList(properties.Roles),
      }),
    );
    return { physicalId: id, attributes };
  };
  return {
    create(request) {
      const { id, attributes } = kind.identify(request);
      return put(request, id, attributes);
    },
    update: (request, current) => put(request, current.physicalId, current.attributes),
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, kind.deleteStep, () => stackIam.deleteAttachment(physicalId));
    },
  };
}

/**
 * `AWS::IAM::Policy`: an inline policy (`PolicyName`) of each role its `Roles` name, put,
 * replaced and taken off as the resource is created, updated and deleted. (`Users` and `Groups`:
 * the local IAM has none.)
 */
export function iamPolicyProvider(stackIam: StackIam, stack: StackEnvironment): ResourceProvider {
  return policyAttachmentProvider(stackIam, {
    kind: 'inline',
    putStep: 'PutRolePolicy',
    deleteStep: 'DeleteRolePolicy',
    identify: ({ logicalId }) => {
      const id = templateOrGeneratedName(undefined, stack.stackName, logicalId);
      return { id, attributes: { Id: id } };
    },
    nameOf: (_id, properties) => String(properties.PolicyName),
  });
}

/**
 * `AWS::IAM::ManagedPolicy`: its document is put on the roles its `Roles` name and on every role
 * whose `ManagedPolicyArns` name it (the local IAM has no managed policies of its own). `Ref`
 * gives its ARN.
 */
export function iamManagedPolicyProvider(
  stackIam: StackIam,
  stack: StackEnvironment,
): ResourceProvider {
  return policyAttachmentProvider(stackIam, {
    kind: 'managed',
    putStep: 'CreatePolicyVersion',
    deleteStep: 'DeletePolicy',
    identify: ({ logicalId, properties }) => {
      const name = templateOrGeneratedName(
        properties.ManagedPolicyName,
        stack.stackName,
        logicalId,
        MAX_NAME,
      );
      const id = globalArn(stack, `policy${pathOf(properties)}${name}`);
      return { id, attributes: { PolicyArn: id, PolicyId: iamId('ANPA') } };
    },
    nameOf: (arn) => arn.split('/').pop() ?? arn,
  });
}

/**
 * `AWS::IAM::InstanceProfile`: the role an instance launched with it runs as (its device gets a
 * session of that role). `Ref` gives the name, `Arn` its ARN.
 */
export function iamInstanceProfileProvider(
  stackIam: StackIam,
  stack: StackEnvironment,
): ResourceProvider {
  const put = async ({ logicalId, properties }: ResourceRequest, name: string) => {
    await runStep(logicalId, 'AddRoleToInstanceProfile', async () =>
      stackIam.putInstanceProfile(name, stringList(properties.Roles)),
    );
    return {
      physicalId: name,
      attributes: { Arn: globalArn(stack, `instance-profile${pathOf(properties)}${name}`) },
    };
  };
  return {
    create: (request) =>
      put(
        request,
        templateOrGeneratedName(
          request.properties.InstanceProfileName,
          stack.stackName,
          request.logicalId,
          MAX_NAME,
        ),
      ),
    update: (request, current) => put(request, current.physicalId),
    async delete({ physicalId }) {
      stackIam.deleteInstanceProfile(physicalId);
    },
  };
}
