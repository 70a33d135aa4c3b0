import { ProvisioningTemplateError } from '../errors';
import { callName } from './template-body';

/** What `Ref: AWS::NoValue` resolves to: the property or list item it stands for is dropped. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** What intrinsic functions read while a template is evaluated. */
export interface IntrinsicContext {
  /** Every parameter's value (device parameters over defaults, service parameters last). */
  parameters: Readonly<Record<string, string>>;
  mappings: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
  /**
   * Evaluates a named condition; undefined when conditions are not enabled (the template
   * parser refused condition functions then).
   */
  condition?: (name: string) => boolean;
}

/**
 * Resolves every intrinsic function inside `value` (deeply), as AWS IoT does when RegisterThing
 * evaluates a template: `Ref`, `Fn::Join`, `Fn::Select`, `Fn::FindInMap`, `Fn::Split`, `Fn::Sub`,
 * and with conditions `Fn::If` (and `Ref: AWS::NoValue`, which drops the property or item).
 * @throws ProvisioningTemplateError for a call that cannot be evaluated (out-of-bounds
 *   `Fn::Select`, a missing mapping key, an unknown variable in `Fn::Sub`, a malformed argument).
 */
export function resolveValue(value: unknown, context: IntrinsicContext): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveValue(item, context)).filter((item) => item !== NO_VALUE);
  }
  if (typeof value !== 'object' || value === null) return value;
  const fn = callName(value);
  if (fn !== undefined) return call(fn, (value as Record<string, unknown>)[fn], context);
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const resolved = resolveValue(item, context);
    if (resolved !== NO_VALUE) result[key] = resolved;
  }
  return result;
}

/** Resolves `value` and requires a string. */
export function resolveString(value: unknown, context: IntrinsicContext, where: string): string {
  const resolved = resolveValue(value, context);
  if (typeof resolved !== 'string') {
    throw new ProvisioningTemplateError(`${where} must resolve to a string`);
  }
  return resolved;
}

function call(fn: string, argument: unknown, context: IntrinsicContext): unknown {
  switch (fn) {
    case 'Ref':
      return ref(argument, context);
    case 'Fn::Join': {
      const [delimiter, list] = args(fn, argument, 2);
      if (typeof delimiter !== 'string') fail(fn, 'the delimiter must be a string');
      return stringList(fn, resolveValue(list, context)).join(delimiter);
    }
    case 'Fn::Select': {
      const [rawIndex, rawList] = args(fn, argument, 2);
      const index = Number(resolveValue(rawIndex, context));
      const list = resolveValue(rawList, context);
      if (!Array.isArray(list)) fail(fn, 'the second argument must be a list');
      // "Fn::Select does not check for null values or if the index is out of bounds of the
      // array. Both conditions result in a provisioning error."
      if (!Number.isInteger(index) || index < 0 || index >= list.length) {
        fail(fn, `index ${String(rawIndex)} is out of bounds of a list of ${list.length}`);
      }
      const selected: unknown = list[index];
      if (selected === null || selected === undefined) fail(fn, `item ${index} is null`);
      return selected;
    }
    case 'Fn::Split': {
      const [delimiter, source] = args(fn, argument, 2);
      if (typeof delimiter !== 'string' || delimiter.length === 0) {
        fail(fn, 'the delimiter must be a non-empty string');
      }
      return resolveString(source, context, 'Fn::Split source').split(delimiter);
    }
    case 'Fn::FindInMap':
      return findInMap(argument, context);
    case 'Fn::Sub':
      return substitute(argument, context);
    case 'Fn::If': {
      const [name, whenTrue, whenFalse] = args(fn, argument, 3);
      if (typeof name !== 'string' || context.condition === undefined) {
        fail(fn, 'the first argument must name a condition');
      }
      return resolveValue(context.condition(name) ? whenTrue : whenFalse, context);
    }
    default:
      // The parser refuses every other function before a template is stored.
      return fail(fn, 'is not supported in provisioning templates');
  }
}

function ref(name: unknown, context: IntrinsicContext): unknown {
  if (name === 'AWS::NoValue' && context.condition !== undefined) return NO_VALUE;
  if (typeof name !== 'string' || !(name in context.parameters)) {
    return fail('Ref', `${JSON.stringify(name)} names no parameter with a value`);
  }
  return context.parameters[name];
}

function findInMap(argument: unknown, context: IntrinsicContext): unknown {
  const [map, top, second] = args('Fn::FindInMap', argument, 3).map((part) =>
    resolveString(part, context, 'Fn::FindInMap argument'),
  ) as [string, string, string];
  const found = context.mappings[map]?.[top]?.[second];
  if (found === undefined) {
    fail('Fn::FindInMap', `no value at ${map}.${top}.${second} in Mappings`);
  }
  return found;
}

/**
 * `Fn::Sub`: `${Name}` is replaced by a variable of the second argument or a parameter,
 * `${!Literal}` writes `${Literal}`.
 */
function substitute(argument: unknown, context: IntrinsicContext): string {
  let text: unknown = argument;
  const variables: Record<string, string> = {};
  if (Array.isArray(argument)) {
    const [template, map] = args('Fn::Sub', argument, 2);
    text = template;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      fail('Fn::Sub', 'the second argument must be a map of variables');
    }
    for (const [name, value] of Object.entries(map)) {
      variables[name] = resolveString(value, context, `Fn::Sub variable ${name}`);
    }
  }
  if (typeof text !== 'string') fail('Fn::Sub', 'the first argument must be a string');
  return text.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    const value = variables[name] ?? context.parameters[name];
    if (value === undefined) fail('Fn::Sub', `\${${name}} names no variable or parameter`);
    return value;
  });
}

function args(fn: string, argument: unknown, count: number): unknown[] {
  if (!Array.isArray(argument) || argument.length !== count) {
    fail(fn, `takes a list of ${count} arguments`);
  }
  return argument as unknown[];
}

function stringList(fn: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    fail(fn, 'the list must resolve to strings');
  }
  return value as string[];
}

function fail(fn: string, problem: string): never {
  throw new ProvisioningTemplateError(`${fn}: ${problem}`);
}
