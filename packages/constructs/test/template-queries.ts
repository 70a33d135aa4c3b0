import type { Template } from 'aws-cdk-lib/assertions';

/** A statement of an IAM or resource policy as it appears in a template. */
export interface TemplateStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
  Sid?: string;
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Metadata?: Record<string, unknown>;
}

/** All resources of the template, by logical id. */
export function resourcesOf(template: Template): Record<string, TemplateResource> {
  return (template.toJSON() as { Resources: Record<string, TemplateResource> }).Resources;
}

/** The one resource of `type`; throws unless there is exactly one. */
export function onlyResource(template: Template, type: string): [string, TemplateResource] {
  const found = Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type);
  if (found.length !== 1) {
    throw new Error(`Expected one ${type}, found ${found.length}`);
  }
  return found[0]!;
}

/** Logical ids of the resources of `type`. */
export function logicalIdsOf(template: Template, type: string): string[] {
  return Object.entries(resourcesOf(template))
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

/** `DependsOn` of a resource as a list. */
export function dependsOnOf(template: Template, logicalId: string): string[] {
  const dependsOn = resourcesOf(template)[logicalId]?.DependsOn ?? [];
  return Array.isArray(dependsOn) ? dependsOn : [dependsOn];
}

/**
 * Statements of every identity policy in the template: `AWS::IAM::Policy`,
 * `AWS::IAM::ManagedPolicy` and inline policies of `AWS::IAM::Role`.
 */
export function identityStatements(template: Template): TemplateStatement[] {
  const statements: TemplateStatement[] = [];
  for (const resource of Object.values(resourcesOf(template))) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      statements.push(...(props['PolicyDocument'] as { Statement: TemplateStatement[] }).Statement);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of (props['Policies'] as {
        PolicyDocument: { Statement: TemplateStatement[] };
      }[]) ?? []) {
        statements.push(...policy.PolicyDocument.Statement);
      }
    }
  }
  return statements;
}

/** Statements of the identity policies attached to the role with logical id `roleId`. */
export function statementsOfRole(template: Template, roleId: string): TemplateStatement[] {
  const statements: TemplateStatement[] = [];
  for (const resource of Object.values(resourcesOf(template))) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.['Roles'] as { Ref: string }[]) ?? [];
    if (roles.some((role) => role.Ref === roleId)) {
      statements.push(
        ...(resource.Properties?.['PolicyDocument'] as { Statement: TemplateStatement[] })
          .Statement,
      );
    }
  }
  return statements;
}

/** A statement's actions as a list. */
export function actionsOf(statement: TemplateStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** A statement's resources as a list (items may be intrinsic functions). */
export function resourcesOfStatement(statement: TemplateStatement): unknown[] {
  const resource = statement.Resource;
  return Array.isArray(resource) ? resource : [resource];
}

/** Values for pseudo parameters when resolving template expressions. */
export interface PseudoParameters {
  partition: string;
  region: string;
  accountId: string;
}

/**
 * Resolves `Fn::Join` / `Ref` of pseudo parameters to a string, as
 * CloudFormation would; other references are rendered as `<LogicalId>` or
 * `<LogicalId.Attribute>`.
 */
export function resolveExpression(value: unknown, pseudo: PseudoParameters): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) {
    throw new Error(`Cannot resolve ${JSON.stringify(value)}`);
  }
  const record = value as Record<string, unknown>;
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveExpression(part, pseudo)).join(separator);
  }
  if ('Ref' in record) {
    switch (record['Ref']) {
      case 'AWS::Partition':
        return pseudo.partition;
      case 'AWS::Region':
        return pseudo.region;
      case 'AWS::AccountId':
        return pseudo.accountId;
      default:
        return `<${String(record['Ref'])}>`;
    }
  }
  if ('Fn::GetAtt' in record) {
    const [id, attribute] = record['Fn::GetAtt'] as [string, string];
    return `<${id}.${attribute}>`;
  }
  throw new Error(`Cannot resolve ${JSON.stringify(value)}`);
}

/** Every string in the template (keys and values), to search for secrets. */
export function everyString(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    value.forEach((item) => everyString(item, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      everyString(item, out);
    }
  }
  return out;
}

/**
 * True when one of `statements` allows `action` on `resource` (a resolved
 * ARN, references rendered as by {@link resolveExpression}), matching IAM's
 * `*` and `?` wildcards in resources and conditions ignored: enough to check
 * that a grant covers a key, not a policy evaluator.
 */
export function allows(
  statements: readonly TemplateStatement[],
  action: string,
  resource: string,
  pseudo: PseudoParameters,
): boolean {
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      statement.Condition === undefined &&
      actionsOf(statement).includes(action) &&
      resourcesOfStatement(statement).some((pattern) =>
        globMatches(resolveExpression(pattern, pseudo), resource),
      ),
  );
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`).test(value);
}
