import { randomBytes } from 'node:crypto';

/** A random suffix like the one CloudFormation appends to generated names. */
export function shortId(): string {
  return randomBytes(6).toString('hex').toUpperCase();
}

/**
 * The name CloudFormation gives a resource whose template leaves it unnamed:
 * `<stack>-<logical id>-<random>`, the stack name and logical id cut so that
 * the whole fits the type's maximum length and the random part stays whole
 * (two resources with long names must not end up with the same one).
 */
function generatedName(stackName: string, logicalId: string, max = 128): string {
  const suffix = shortId();
  return `${`${stackName}-${logicalId}`.slice(0, max - suffix.length - 1)}-${suffix}`;
}

/** An ARN in the stack's region and account. */
export function regionalArn(
  stack: { readonly region: string; readonly accountId: string },
  service: string,
  resource: string,
): string {
  return `arn:aws:${service}:${stack.region}:${stack.accountId}:${resource}`;
}

/** The name the template gives a resource (`given`), or a generated one when it gives none. */
export function templateOrGeneratedName(
  given: unknown,
  stackName: string,
  logicalId: string,
  max?: number,
): string {
  return typeof given === 'string' ? given : generatedName(stackName, logicalId, max);
}

/** A new EC2 instance id: `i-` and 17 hexadecimal digits. */
export function newInstanceId(): string {
  return `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
}
