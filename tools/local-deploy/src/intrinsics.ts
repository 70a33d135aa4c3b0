import { TemplateError } from './errors';

/** What a resolver needs to know about the stack and its deployed resources. */
export interface ResolveContext {
  readonly pseudo: Readonly<Record<string, string>>;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly conditions: Readonly<Record<string, boolean>>;
  /** Physical id of a deployed resource (what `Ref` gives). */
  ref(logicalId: string): string | undefined;
  /** Attribute of a deployed resource (what `Fn::GetAtt` gives). */
  getAtt(logicalId: string, attribute: string): unknown;
}

/** Marker for `AWS::NoValue`: the property is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`${where} expects a string, got ${JSON.stringify(value)}`);
}

function asList(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.split(',');
  throw new TemplateError(`${where} expects a list, got ${JSON.stringify(value)}`);
}

function refValue(name: string, ctx: ResolveContext): unknown {
  if (name.startsWith('AWS::')) {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const value = ctx.pseudo[name];
    if (value === undefined) throw new TemplateError(`unknown pseudo parameter ${name}`);
    return value;
  }
  if (name in ctx.parameters) return ctx.parameters[name];
  const physical = ctx.ref(name);
  if (physical === undefined) throw new TemplateError(`Ref to ${name}, which is not deployed`);
  return physical;
}

function getAtt(spec: unknown, ctx: ResolveContext): unknown {
  const [logicalId, ...path] =
    typeof spec === 'string' ? spec.split('.') : asList(spec, 'Fn::GetAtt').map(String);
  if (!logicalId || path.length === 0)
    throw new TemplateError(`bad Fn::GetAtt ${JSON.stringify(spec)}`);
  const value = ctx.getAtt(logicalId, path.join('.'));
  if (value === undefined) {
    throw new TemplateError(`Fn::GetAtt ${logicalId}.${path.join('.')} has no value`);
  }
  return value;
}

function sub(spec: unknown, ctx: ResolveContext): string {
  const [template, variables]: unknown[] = Array.isArray(spec) ? (spec as unknown[]) : [spec, {}];
  const text = asString(template, 'Fn::Sub');
  const vars = isObject(variables) ? variables : {};
  return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`; // ${!Literal}
    if (name in vars) return asString(resolveValue(vars[name], ctx), `Fn::Sub variable ${name}`);
    if (name.includes('.')) {
      const [logicalId, ...attribute] = name.split('.');
      return asString(getAtt([logicalId, attribute.join('.')], ctx), `Fn::Sub ${whole}`);
    }
    return asString(refValue(name, ctx), `Fn::Sub ${whole}`);
  });
}

function condition(spec: unknown, ctx: ResolveContext): boolean {
  if (isObject(spec) && typeof spec.Condition === 'string') {
    return evaluateCondition(spec.Condition, ctx);
  }
  const value = resolveValue(spec, ctx);
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new TemplateError(`condition expects a boolean, got ${JSON.stringify(value)}`);
}

/** Evaluates a named condition. */
export function evaluateCondition(name: string, ctx: ResolveContext): boolean {
  const value = ctx.conditions[name];
  if (value === undefined) throw new TemplateError(`unknown condition ${name}`);
  return value;
}

const FUNCTIONS: Record<string, (argument: unknown, ctx: ResolveContext) => unknown> = {
  Ref: (name, ctx) => refValue(asString(name, 'Ref'), ctx),
  'Fn::GetAtt': getAtt,
  'Fn::Sub': sub,
  'Fn::Join': (argument, ctx) => {
    const [delimiter, items] = asList(argument, 'Fn::Join');
    return asList(resolveValue(items, ctx), 'Fn::Join')
      .map((item) => asString(item, 'Fn::Join item'))
      .join(asString(delimiter, 'Fn::Join delimiter'));
  },
  'Fn::Select': (argument, ctx) => {
    const [index, items] = asList(argument, 'Fn::Select');
    const list = asList(resolveValue(items, ctx), 'Fn::Select');
    const at = Number(resolveValue(index, ctx));
    if (!Number.isInteger(at) || at < 0 || at >= list.length) {
      throw new TemplateError(`Fn::Select index ${at} out of range 0..${list.length - 1}`);
    }
    return list[at];
  },
  'Fn::Split': (argument, ctx) => {
    const [delimiter, source] = asList(argument, 'Fn::Split');
    return asString(resolveValue(source, ctx), 'Fn::Split').split(asString(delimiter, 'Fn::Split'));
  },
  'Fn::If': (argument, ctx) => {
    const [name, whenTrue, whenFalse] = asList(argument, 'Fn::If');
    return resolveValue(
      evaluateCondition(asString(name, 'Fn::If'), ctx) ? whenTrue : whenFalse,
      ctx,
    );
  },
  'Fn::Equals': (argument, ctx) => {
    const [a, b] = asList(argument, 'Fn::Equals').map((item) => resolveValue(item, ctx));
    return JSON.stringify(a) === JSON.stringify(b);
  },
  'Fn::And': (argument, ctx) => asList(argument, 'Fn::And').every((item) => condition(item, ctx)),
  'Fn::Or': (argument, ctx) => asList(argument, 'Fn::Or').some((item) => condition(item, ctx)),
  'Fn::Not': (argument, ctx) => !condition(asList(argument, 'Fn::Not')[0], ctx),
  'Fn::Base64': (argument, ctx) =>
    Buffer.from(asString(resolveValue(argument, ctx), 'Fn::Base64')).toString('base64'),
  'Fn::GetAZs': (_argument, ctx) =>
    ['a', 'b', 'c'].map((zone) => `${ctx.pseudo['AWS::Region']}${zone}`),
  'Fn::ImportValue': (argument) => {
    throw new TemplateError(
      `Fn::ImportValue ${JSON.stringify(argument)}: cross-stack imports are not emulated`,
    );
  },
};

/**
 * Resolves every intrinsic function in `value` against deployed state:
 * `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`,
 * `Fn::If` with conditions, `Fn::Equals/And/Or/Not`, `Fn::Base64`,
 * `Fn::GetAZs`, parameters and pseudo parameters. `AWS::NoValue` removes the key.
 *
 * @throws {TemplateError} naming what could not be resolved.
 */
export function resolveValue(value: unknown, ctx: ResolveContext): unknown {
  return strip(resolveInner(value, ctx));
}

function resolveInner(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveInner(item, ctx));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const key = keys[0]!;
    const fn = FUNCTIONS[key];
    if (fn) return fn(value[key], ctx);
  }
  return Object.fromEntries(keys.map((key) => [key, resolveInner(value[key], ctx)]));
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => item !== NO_VALUE).map(strip);
  if (!isObject(value)) return value === NO_VALUE ? undefined : value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== NO_VALUE)
      .map(([key, item]) => [key, strip(item)]),
  );
}

/**
 * Logical ids a value refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`
 * (parameters and pseudo parameters excluded): the edges of the deploy order.
 */
export function referencedResources(value: unknown, resourceIds: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, inner] of Object.entries(node)) {
      if (key === 'Ref' && typeof inner === 'string' && resourceIds.has(inner)) found.add(inner);
      else if (key === 'Fn::GetAtt') {
        const target: unknown =
          typeof inner === 'string'
            ? inner.split('.')[0]
            : Array.isArray(inner)
              ? (inner as unknown[])[0]
              : undefined;
        if (typeof target === 'string' && resourceIds.has(target)) found.add(target);
      } else if (key === 'Fn::Sub') {
        const text: unknown = Array.isArray(inner) ? (inner as unknown[])[0] : inner;
        if (typeof text === 'string') {
          for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
            const target = match[1]!.split('.')[0]!;
            if (resourceIds.has(target)) found.add(target);
          }
        }
      }
      visit(inner);
    }
  };
  visit(value);
  return found;
}
