import { ProvisioningTemplateError } from '../errors';
import { callName } from './template-body';
import { resolveValue, type IntrinsicContext } from './template-intrinsics';

/**
 * Evaluates the Conditions section as CloudFormation defines it
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html):
 * `Fn::Equals` of two values, `Fn::Not` of one condition, `Fn::And` / `Fn::Or` of 2 to 10,
 * `{ "Condition": name }` to reuse another. Each condition is evaluated once; a cycle is refused.
 * @returns a function answering one condition by name.
 */
export function conditionEvaluator(
  conditions: Readonly<Record<string, unknown>>,
  context: Omit<IntrinsicContext, 'condition'>,
): (name: string) => boolean {
  const results = new Map<string, boolean>();
  const evaluating = new Set<string>();
  const named = (name: string): boolean => {
    const known = results.get(name);
    if (known !== undefined) return known;
    if (!(name in conditions)) fail(`condition ${name} is not declared in Conditions`);
    if (evaluating.has(name)) fail(`condition ${name} refers to itself`);
    evaluating.add(name);
    const result = expression(conditions[name], `condition ${name}`);
    evaluating.delete(name);
    results.set(name, result);
    return result;
  };
  const full: IntrinsicContext = { ...context, condition: named };
  const expression = (value: unknown, where: string): boolean => {
    if (isConditionReference(value)) return named(value.Condition);
    const fn = callName(value);
    const argument = fn === undefined ? undefined : (value as Record<string, unknown>)[fn];
    switch (fn) {
      case 'Fn::Equals': {
        const sides = list(argument, 2, 2, `${where}: Fn::Equals`);
        const [left, right] = sides.map((side) => resolveValue(side, full));
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !expression(list(argument, 1, 1, `${where}: Fn::Not`)[0], where);
      case 'Fn::And':
        return list(argument, 2, 10, `${where}: Fn::And`).every((item) => expression(item, where));
      case 'Fn::Or':
        return list(argument, 2, 10, `${where}: Fn::Or`).some((item) => expression(item, where));
      default:
        return fail(`${where} must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or a Condition`);
    }
  };
  return named;
}

function isConditionReference(value: unknown): value is { Condition: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as Record<string, unknown>)['Condition'] === 'string'
  );
}

function list(value: unknown, min: number, max: number, where: string): unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    fail(`${where} takes a list of ${min === max ? min : `${min} to ${max}`} arguments`);
  }
  return value as unknown[];
}

function fail(problem: string): never {
  throw new ProvisioningTemplateError(problem);
}
