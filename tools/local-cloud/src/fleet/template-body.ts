import { ProvisioningTemplateError } from '../errors';

/**
 * A provisioning template body, checked against what AWS documents for fleet provisioning
 * templates (https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html):
 * sections Parameters, Mappings, Resources (`AWS::IoT::Thing`, `AWS::IoT::Certificate`,
 * `AWS::IoT::Policy`) and DeviceConfiguration, the intrinsic functions `Ref`, `Fn::Join`,
 * `Fn::Select`, `Fn::FindInMap`, `Fn::Split` and `Fn::Sub`; with {@link TemplateFeatures.conditions}
 * also CloudFormation's Conditions section and condition functions.
 */
export interface ParsedTemplate {
  parameters: Record<string, { default?: string }>;
  /** map name → top-level key → second-level key → value (no intrinsics). */
  mappings: Record<string, Record<string, Record<string, unknown>>>;
  /** condition name → condition expression (empty unless conditions are enabled). */
  conditions: Record<string, unknown>;
  resources: Record<string, TemplateResource>;
  /** name → value or intrinsic (flat: AWS does not support nested objects here). */
  deviceConfiguration: Record<string, unknown>;
}

/** The resource types a provisioning template may declare. */
export type TemplateResourceType = 'AWS::IoT::Thing' | 'AWS::IoT::Certificate' | 'AWS::IoT::Policy';

/** One entry of the Resources section. */
export interface TemplateResource {
  type: TemplateResourceType;
  properties: Record<string, unknown>;
  /** property → DO_NOTHING | REPLACE | FAIL | MERGE, keyed by the property name (`ThingGroups`). */
  overrideSettings: Record<string, OverrideAction>;
  /** Name of the condition that decides whether the resource is provisioned. */
  condition?: string;
}

/** What RegisterThing does with a property of a resource that already exists. */
export type OverrideAction = 'DO_NOTHING' | 'REPLACE' | 'FAIL' | 'MERGE';

/** Which optional template features the local cloud accepts. */
export interface TemplateFeatures {
  /**
   * Accept CloudFormation's `Conditions` section, the resource attribute `Condition`, and
   * `Fn::If`, `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and `Ref: AWS::NoValue`. AWS's
   * developer guide does not list them for provisioning templates, so they are off by default.
   */
  conditions: boolean;
}

/** The service sets this parameter to the id of the certificate being registered. */
export const CERTIFICATE_ID_PARAMETER = 'AWS::IoT::Certificate::Id';

/** The intrinsic functions AWS documents for provisioning templates. */
export const DOCUMENTED_FUNCTIONS = [
  'Ref',
  'Fn::Join',
  'Fn::Select',
  'Fn::FindInMap',
  'Fn::Split',
  'Fn::Sub',
] as const;

/** CloudFormation's condition functions, accepted only with {@link TemplateFeatures.conditions}. */
export const CONDITION_FUNCTIONS = [
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
] as const;

const RESOURCE_PROPERTIES: Record<TemplateResourceType, readonly string[]> = {
  'AWS::IoT::Thing': ['ThingName', 'AttributePayload', 'ThingTypeName', 'ThingGroups'],
  'AWS::IoT::Certificate': ['CertificateId', 'Status'],
  'AWS::IoT::Policy': ['PolicyName', 'PolicyDocument'],
};

/** Documented properties the local cloud does not emulate: refused with a clear reason. */
const NOT_EMULATED: Record<string, string> = {
  BillingGroup: 'billing groups are not emulated by local-cloud',
  PackageVersions: 'software package versions are not emulated by local-cloud',
  CertificateSigningRequest: 'only CertificateId can be used in a fleet provisioning template',
  CertificatePem: 'only CertificateId can be used in a fleet provisioning template',
  CACertificatePem: 'only CertificateId can be used in a fleet provisioning template',
};

/** OverrideSettings keys as the developer guide spells them in prose, mapped to the property. */
const OVERRIDE_ALIASES: Record<string, string> = {
  ATTRIBUTE_PAYLOAD: 'AttributePayload',
  THING_TYPE_NAME: 'ThingTypeName',
  THING_GROUPS: 'ThingGroups',
  STATUS: 'Status',
};

/**
 * Parses and checks a template body as CreateProvisioningTemplate does.
 * @throws ProvisioningTemplateError naming the first problem.
 */
export function parseTemplateBody(body: string, features: TemplateFeatures): ParsedTemplate {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    throw new ProvisioningTemplateError('The template body is not valid JSON', { cause: error });
  }
  const root = record(raw, 'The template body');
  const sections = ['Parameters', 'Mappings', 'Resources', 'DeviceConfiguration'];
  if (features.conditions) sections.push('Conditions');
  for (const key of Object.keys(root)) {
    if (!sections.includes(key)) {
      throw new ProvisioningTemplateError(
        `Unsupported template section ${key}; a fleet provisioning template has ${sections.join(', ')}`,
      );
    }
  }
  const template: ParsedTemplate = {
    parameters: parseParameters(root['Parameters']),
    mappings: parseMappings(root['Mappings']),
    conditions: root['Conditions'] === undefined ? {} : record(root['Conditions'], 'Conditions'),
    resources: {},
    deviceConfiguration: parseDeviceConfiguration(root['DeviceConfiguration']),
  };
  const resources = record(root['Resources'] ?? {}, 'Resources');
  const counts = new Map<string, number>();
  for (const [name, value] of Object.entries(resources)) {
    const resource = parseResource(name, value, features);
    template.resources[name] = resource;
    counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
  }
  for (const type of ['AWS::IoT::Thing', 'AWS::IoT::Certificate']) {
    if ((counts.get(type) ?? 0) > 1) {
      throw new ProvisioningTemplateError(`A template declares at most one ${type} resource`);
    }
  }
  checkExpressions(template, features);
  return template;
}

function parseParameters(value: unknown): ParsedTemplate['parameters'] {
  const parameters: ParsedTemplate['parameters'] = {};
  for (const [name, raw] of Object.entries(record(value ?? {}, 'Parameters'))) {
    const parameter = record(raw, `Parameter ${name}`);
    for (const key of Object.keys(parameter)) {
      if (key !== 'Type' && key !== 'Default') {
        throw new ProvisioningTemplateError(
          `Parameter ${name}: unsupported attribute ${key} (Type and Default are supported)`,
        );
      }
    }
    if (parameter['Type'] !== 'String') {
      throw new ProvisioningTemplateError(`Parameter ${name}: Type must be String`);
    }
    const fallback = parameter['Default'];
    if (fallback !== undefined && typeof fallback !== 'string') {
      throw new ProvisioningTemplateError(`Parameter ${name}: Default must be a string`);
    }
    parameters[name] = fallback === undefined ? {} : { default: fallback };
  }
  return parameters;
}

function parseMappings(value: unknown): ParsedTemplate['mappings'] {
  const mappings: ParsedTemplate['mappings'] = {};
  for (const [name, raw] of Object.entries(record(value ?? {}, 'Mappings'))) {
    const top = record(raw, `Mapping ${name}`);
    mappings[name] = {};
    for (const [key, second] of Object.entries(top)) {
      const values = record(second, `Mapping ${name}.${key}`);
      // "You cannot include parameters, pseudo parameters, or call intrinsic functions in the
      // Mappings section."
      forEachCall(values, (fn) => {
        throw new ProvisioningTemplateError(`Mapping ${name}.${key}: ${fn} is not allowed here`);
      });
      mappings[name][key] = values;
    }
  }
  return mappings;
}

function parseDeviceConfiguration(value: unknown): ParsedTemplate['deviceConfiguration'] {
  const configuration = record(value ?? {}, 'DeviceConfiguration');
  for (const [name, item] of Object.entries(configuration)) {
    const nested = typeof item === 'object' && item !== null && callName(item) === undefined;
    if (nested || (item !== null && typeof item === 'object' && Array.isArray(item))) {
      throw new ProvisioningTemplateError(
        `DeviceConfiguration.${name}: the DeviceConfiguration section does not support nested JSON objects`,
      );
    }
  }
  return configuration;
}

function parseResource(name: string, value: unknown, features: TemplateFeatures): TemplateResource {
  const raw = record(value, `Resource ${name}`);
  const allowed = ['Type', 'Properties', 'OverrideSettings'];
  if (features.conditions) allowed.push('Condition');
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new ProvisioningTemplateError(`Resource ${name}: unsupported attribute ${key}`);
    }
  }
  const type = raw['Type'];
  if (typeof type !== 'string' || !(type in RESOURCE_PROPERTIES)) {
    throw new ProvisioningTemplateError(
      `Resource ${name}: unsupported Type ${String(type)}; supported: ${Object.keys(RESOURCE_PROPERTIES).join(', ')}`,
    );
  }
  const resourceType = type as TemplateResourceType;
  const properties = record(raw['Properties'] ?? {}, `Resource ${name}: Properties`);
  for (const key of Object.keys(properties)) {
    const reason = NOT_EMULATED[key];
    if (reason !== undefined) {
      throw new ProvisioningTemplateError(`Resource ${name}: ${key} is refused: ${reason}`);
    }
    if (!RESOURCE_PROPERTIES[resourceType].includes(key)) {
      throw new ProvisioningTemplateError(
        `Resource ${name}: ${type} has no property ${key}; supported: ${RESOURCE_PROPERTIES[resourceType].join(', ')}`,
      );
    }
  }
  requireProperties(name, resourceType, properties);
  const condition = raw['Condition'];
  if (condition !== undefined && typeof condition !== 'string') {
    throw new ProvisioningTemplateError(`Resource ${name}: Condition must name a condition`);
  }
  return {
    type: resourceType,
    properties,
    overrideSettings: parseOverrideSettings(name, resourceType, raw['OverrideSettings']),
    ...(condition === undefined ? {} : { condition }),
  };
}

function requireProperties(
  name: string,
  type: TemplateResourceType,
  properties: Record<string, unknown>,
): void {
  if (type === 'AWS::IoT::Thing' && properties['ThingName'] === undefined) {
    throw new ProvisioningTemplateError(`Resource ${name}: ThingName is required`);
  }
  if (type === 'AWS::IoT::Certificate' && properties['CertificateId'] === undefined) {
    throw new ProvisioningTemplateError(`Resource ${name}: CertificateId is required`);
  }
  if (
    type === 'AWS::IoT::Policy' &&
    (properties['PolicyName'] === undefined) === (properties['PolicyDocument'] === undefined)
  ) {
    throw new ProvisioningTemplateError(
      `Resource ${name}: a policy declares PolicyName or PolicyDocument, but not both`,
    );
  }
}

function parseOverrideSettings(
  name: string,
  type: TemplateResourceType,
  value: unknown,
): Record<string, OverrideAction> {
  if (value === undefined) return {};
  if (type === 'AWS::IoT::Policy') {
    throw new ProvisioningTemplateError(
      `Resource ${name}: OverrideSettings are not available for policy resources`,
    );
  }
  const settings: Record<string, OverrideAction> = {};
  const allowed =
    type === 'AWS::IoT::Thing' ? ['AttributePayload', 'ThingTypeName', 'ThingGroups'] : ['Status'];
  for (const [key, action] of Object.entries(record(value, `Resource ${name}: OverrideSettings`))) {
    const property = OVERRIDE_ALIASES[key] ?? key;
    if (!allowed.includes(property)) {
      throw new ProvisioningTemplateError(
        `Resource ${name}: OverrideSettings has no ${key}; supported: ${allowed.join(', ')}`,
      );
    }
    const mergeable = property === 'AttributePayload' || property === 'ThingGroups';
    const actions = mergeable
      ? ['DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE']
      : ['DO_NOTHING', 'REPLACE', 'FAIL'];
    if (typeof action !== 'string' || !actions.includes(action)) {
      throw new ProvisioningTemplateError(
        `Resource ${name}: OverrideSettings.${key} must be one of ${actions.join(', ')}`,
      );
    }
    settings[property] = action as OverrideAction;
  }
  return settings;
}

/** Refuses functions AWS does not support and `Ref`s to nothing, wherever values are evaluated. */
function checkExpressions(template: ParsedTemplate, features: TemplateFeatures): void {
  const supported: readonly string[] = features.conditions
    ? [...DOCUMENTED_FUNCTIONS, ...CONDITION_FUNCTIONS]
    : DOCUMENTED_FUNCTIONS;
  const known = new Set([...Object.keys(template.parameters), CERTIFICATE_ID_PARAMETER]);
  if (features.conditions) known.add('AWS::NoValue');
  const check = (value: unknown, where: string) =>
    forEachCall(value, (fn, argument) => {
      if (!supported.includes(fn)) {
        throw new ProvisioningTemplateError(
          `${where}: unsupported intrinsic function ${fn}; supported: ${supported.join(', ')}`,
        );
      }
      if (fn === 'Ref' && (typeof argument !== 'string' || !known.has(argument))) {
        throw new ProvisioningTemplateError(
          `${where}: Ref ${JSON.stringify(argument)} names no parameter of the template`,
        );
      }
    });
  for (const [name, resource] of Object.entries(template.resources)) {
    check(resource.properties, `Resource ${name}`);
    if (resource.condition !== undefined && !(resource.condition in template.conditions)) {
      throw new ProvisioningTemplateError(
        `Resource ${name}: Condition ${resource.condition} is not declared in Conditions`,
      );
    }
  }
  check(template.deviceConfiguration, 'DeviceConfiguration');
  check(template.conditions, 'Conditions');
}

/**
 * The function an object calls (`{ "Fn::Join": [...] }` → `Fn::Join`), if it is a call: an
 * object with a single key that is `Ref` or starts with `Fn::`.
 */
export function callName(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

/** Calls `visit` for every intrinsic call inside `value`, outermost first. */
function forEachCall(value: unknown, visit: (fn: string, argument: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) forEachCall(item, visit);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const fn = callName(value);
  if (fn !== undefined) visit(fn, (value as Record<string, unknown>)[fn]);
  for (const item of Object.values(value)) forEachCall(item, visit);
}

/** `value` as a JSON object. @throws ProvisioningTemplateError when it is not one. */
export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProvisioningTemplateError(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
