import { TemplateError } from './errors';

/**
 * EventBridge content filters this emulation knows
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 */
const FILTERS = new Set(['prefix', 'suffix', 'anything-but', 'exists', 'equals-ignore-case']);

type Pattern = Readonly<Record<string, unknown>>;

/**
 * Checks an event pattern as EventBridge does when a rule is put: a JSON
 * object whose leaves are arrays of values or content filters. A filter
 * this emulation does not know (numeric, wildcard, cidr…) is refused rather
 * than matched loosely.
 *
 * @throws {TemplateError} naming the problem (EventBridge answers `InvalidEventPatternException`).
 */
export function validateEventPattern(pattern: unknown, path = 'EventPattern'): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern))
    throw new TemplateError(`${path} must be a JSON object`);
  for (const [key, value] of Object.entries(pattern)) {
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        if (typeof item !== 'object' || item === null) continue;
        const [filter, ...more] = Object.keys(item);
        if (filter === undefined || more.length > 0 || !FILTERS.has(filter))
          throw new TemplateError(
            `${path}.${key}: content filter ${JSON.stringify(item)} is not emulated`,
          );
      }
    } else validateEventPattern(value, `${path}.${key}`);
  }
}

/**
 * Whether `event` matches `pattern` by EventBridge's rules
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
 * every field of the pattern must match (AND); a field's array lists the
 * values allowed (OR), exact and case-sensitive, or content filters; a
 * nested object matches the event's nested object; an event array matches
 * when one of its items does.
 */
export function matchesEventPattern(pattern: Pattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const present = Object.hasOwn(fields, key);
    const actual = fields[key];
    if (Array.isArray(expected))
      return expected.some((item) => matchesValue(item, actual, present));
    return present && matchesEventPattern(expected as Pattern, actual);
  });
}

function matchesValue(expected: unknown, actual: unknown, present: boolean): boolean {
  if (typeof expected === 'object' && expected !== null) {
    const [[filter, argument]] = Object.entries(expected) as [[string, unknown]];
    if (filter === 'exists') return argument === present;
    if (!present) return filter === 'anything-but';
    return anyItem(actual, (value) => matchesFilter(filter, argument, value));
  }
  return present && anyItem(actual, (value) => value === expected);
}

function anyItem(actual: unknown, test: (value: unknown) => boolean): boolean {
  return Array.isArray(actual) ? actual.some(test) : test(actual);
}

function matchesFilter(filter: string, argument: unknown, value: unknown): boolean {
  switch (filter) {
    case 'prefix':
      return typeof value === 'string' && value.startsWith(String(argument));
    case 'suffix':
      return typeof value === 'string' && value.endsWith(String(argument));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(argument).toLowerCase();
    case 'anything-but': {
      if (typeof argument === 'object' && argument !== null && !Array.isArray(argument)) {
        const prefix = (argument as { prefix?: unknown }).prefix;
        return !(typeof value === 'string' && value.startsWith(String(prefix)));
      }
      const excluded: unknown[] = Array.isArray(argument) ? argument : [argument];
      return !excluded.includes(value);
    }
    default:
      return false;
  }
}
