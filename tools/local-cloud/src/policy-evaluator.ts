import { MalformedPolicyError } from './errors';

/** The IoT data-plane actions the broker authorizes. */
export type IotAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

/** One question to the evaluator: may this connection do `action` on `resource`? */
export interface AuthorizationRequest {
  /** The IoT action. */
  action: IotAction;
  /** Full ARN, e.g. `arn:aws:iot:us-east-1:000000000000:topic/test/topic`. */
  resource: string;
  /** MQTT client id of the connection (`${iot:ClientId}`). */
  clientId: string;
  /**
   * Name of the thing attached to the certificate whose name equals the client id
   * (`${iot:Connection.Thing.ThingName}`); `undefined` when none, and then policy
   * elements using the variable do not match.
   * @default undefined
   */
  thingName?: string;
  /**
   * Value of the condition key `iot:Connection.Thing.IsAttached`.
   * @default thingName !== undefined
   */
  isAttached?: boolean;
}

/** The evaluator's answer. */
export interface AuthorizationResult {
  /** `true` only for `decision === 'allow'`. */
  allowed: boolean;
  /** Explicit Deny beats Allow; no matching statement is an implicit deny. */
  decision: 'allow' | 'explicit-deny' | 'implicit-deny';
}

interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  condition: Record<string, Record<string, string[]>>;
}

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * Builds the ARN the broker authorizes against, as AWS IoT does:
 * `client/<clientId>` for Connect, `topic/<topic>` for Publish and Receive,
 * `topicfilter/<filter>` for Subscribe.
 * @example
 * ```ts
 * iotResourceArn('topic', 'dt/sensor-1', { region: 'us-east-1', accountId: '000000000000' });
 * // 'arn:aws:iot:us-east-1:000000000000:topic/dt/sensor-1'
 * ```
 */
export function iotResourceArn(
  kind: 'client' | 'topic' | 'topicfilter',
  name: string,
  where: { region: string; accountId: string },
): string {
  return `arn:aws:iot:${where.region}:${where.accountId}:${kind}/${name}`;
}

/**
 * Evaluates IoT policy documents for one request, the way AWS IoT Core does:
 * explicit Deny beats Allow, default deny, `*` and `?` wildcards (MQTT `+` and
 * `#` are literal characters inside a policy), the variables `${iot:ClientId}`
 * and `${iot:Connection.Thing.ThingName}`, and conditions on
 * `iot:Connection.Thing.IsAttached`, `iot:ClientId` and
 * `iot:Connection.Thing.ThingName` (operators `Bool`, `StringEquals`,
 * `StringNotEquals`, `StringLike`, `StringNotLike`, `Null`).
 *
 * @throws MalformedPolicyError when a document is not a valid policy.
 * @example
 * ```ts
 * const policy = {
 *   Version: '2012-10-17',
 *   Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/dt/${iot:ClientId}/*' }],
 * };
 * evaluatePolicies([policy], {
 *   action: 'iot:Publish',
 *   resource: 'arn:aws:iot:us-east-1:000000000000:topic/dt/dev-1/temp',
 *   clientId: 'dev-1',
 * }).allowed; // true
 * ```
 */
export function evaluatePolicies(
  policyDocuments: Array<string | object>,
  request: AuthorizationRequest,
): AuthorizationResult {
  let allowed = false;
  for (const document of policyDocuments) {
    for (const statement of parsePolicyDocument(document)) {
      if (!statementApplies(statement, request)) continue;
      if (statement.effect === 'Deny') return { allowed: false, decision: 'explicit-deny' };
      allowed = true;
    }
  }
  return allowed
    ? { allowed: true, decision: 'allow' }
    : { allowed: false, decision: 'implicit-deny' };
}

/**
 * Checks that a document is a policy this evaluator understands, as
 * CreatePolicy does before storing it.
 * @throws MalformedPolicyError naming the first problem found.
 */
export function validatePolicyDocument(document: string | object): void {
  parsePolicyDocument(document);
}

function parsePolicyDocument(document: string | object): Statement[] {
  let parsed: unknown = document;
  if (typeof document === 'string') {
    try {
      parsed = JSON.parse(document);
    } catch (error) {
      throw new MalformedPolicyError('Policy document is not valid JSON', { cause: error });
    }
  }
  if (!isRecord(parsed)) throw new MalformedPolicyError('Policy document must be a JSON object');
  const rawStatements = parsed['Statement'];
  const list = Array.isArray(rawStatements) ? (rawStatements as unknown[]) : [rawStatements];
  if (rawStatements === undefined || list.length === 0) {
    throw new MalformedPolicyError('Policy document must have at least one Statement');
  }
  return list.map((raw, index) => parseStatement(raw, index));
}

function parseStatement(raw: unknown, index: number): Statement {
  if (!isRecord(raw)) throw new MalformedPolicyError(`Statement ${index} must be an object`);
  const effect = raw['Effect'];
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw new MalformedPolicyError(`Statement ${index}: Effect must be "Allow" or "Deny"`);
  }
  const actions = stringList(raw['Action'], `Statement ${index}: Action`);
  const resources = stringList(raw['Resource'], `Statement ${index}: Resource`);
  const condition: Statement['condition'] = {};
  const rawCondition = raw['Condition'];
  if (rawCondition !== undefined) {
    if (!isRecord(rawCondition)) {
      throw new MalformedPolicyError(`Statement ${index}: Condition must be an object`);
    }
    for (const [operator, block] of Object.entries(rawCondition)) {
      if (!isRecord(block)) {
        throw new MalformedPolicyError(
          `Statement ${index}: Condition ${operator} must be an object`,
        );
      }
      const entries: Record<string, string[]> = {};
      for (const [key, value] of Object.entries(block)) {
        const values = Array.isArray(value) ? (value as unknown[]) : [value];
        entries[key] = values.map((v) => String(v));
      }
      condition[operator] = entries;
    }
  }
  return { effect, actions, resources, condition };
}

function stringList(value: unknown, what: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (value === undefined || list.length === 0 || list.some((v) => typeof v !== 'string')) {
    throw new MalformedPolicyError(`${what} must be a string or a list of strings`);
  }
  return list as string[];
}

function statementApplies(statement: Statement, request: AuthorizationRequest): boolean {
  const actionMatches = statement.actions.some((pattern) =>
    globMatch(pattern.toLowerCase(), request.action.toLowerCase()),
  );
  if (!actionMatches) return false;
  const resourceMatches = statement.resources.some((pattern) => {
    const substituted = substitute(pattern, request);
    return substituted !== undefined && globMatch(substituted, request.resource);
  });
  return resourceMatches && conditionHolds(statement.condition, request);
}

/** Replaces policy variables; `undefined` when one cannot be resolved (the element never matches). */
function substitute(pattern: string, request: AuthorizationRequest): string | undefined {
  let unresolved = false;
  const result = pattern.replace(VARIABLE, (_whole, name: string) => {
    const value = variableValue(name, request);
    if (value === undefined) unresolved = true;
    return value ?? '';
  });
  return unresolved ? undefined : result;
}

function variableValue(name: string, request: AuthorizationRequest): string | undefined {
  switch (name) {
    case 'iot:ClientId':
      return request.clientId;
    case 'iot:Connection.Thing.ThingName':
      return request.thingName;
    case 'iot:Connection.Thing.IsAttached':
      return String(isAttached(request));
    default:
      return undefined;
  }
}

function isAttached(request: AuthorizationRequest): boolean {
  return request.isAttached ?? request.thingName !== undefined;
}

function conditionHolds(condition: Statement['condition'], request: AuthorizationRequest): boolean {
  for (const [operator, block] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(block)) {
      const actual = variableValue(key, request);
      if (!operatorHolds(operator, actual, expected, request)) return false;
    }
  }
  return true;
}

function operatorHolds(
  operator: string,
  actual: string | undefined,
  expected: string[],
  request: AuthorizationRequest,
): boolean {
  const values = expected.map((v) => substitute(v, request));
  switch (operator) {
    case 'Bool':
      return actual !== undefined && values.some((v) => v?.toLowerCase() === actual.toLowerCase());
    case 'StringEquals':
      return actual !== undefined && values.some((v) => v === actual);
    case 'StringNotEquals':
      return actual !== undefined && values.every((v) => v !== actual);
    case 'StringLike':
      return actual !== undefined && values.some((v) => v !== undefined && globMatch(v, actual));
    case 'StringNotLike':
      return actual !== undefined && values.every((v) => v === undefined || !globMatch(v, actual));
    case 'Null':
      return values.some((v) => (v === 'true') === (actual === undefined));
    default:
      // An operator we do not emulate never holds: failing closed keeps tests honest.
      return false;
  }
}

/** IAM-style glob: `*` any run of characters (including `/`), `?` exactly one. */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    const pc = pattern[p];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === value[v])) {
      p++;
      v++;
    } else if (pc === '*') {
      star = p++;
      mark = v;
    } else if (star !== -1) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
