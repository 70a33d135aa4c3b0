import { createHash } from 'node:crypto';
import { ProvisioningTemplateError } from '../errors';
import {
  CERTIFICATE_ID_PARAMETER,
  type OverrideAction,
  type ParsedTemplate,
  type TemplateResource,
} from './template-body';
import { conditionEvaluator } from './template-conditions';
import { resolveValue, type IntrinsicContext } from './template-intrinsics';

/** The thing a template provisions, with what to do where it already exists. */
export interface ThingPlan {
  thingName: string;
  /** Flat attribute map (`AttributePayload`); undefined when the template gives none. */
  attributes?: Record<string, string>;
  thingTypeName?: string;
  thingGroups?: string[];
  /** Per property, from OverrideSettings; DO_NOTHING where the template says nothing. */
  overrides: Record<'AttributePayload' | 'ThingTypeName' | 'ThingGroups', OverrideAction>;
}

/** The certificate a template activates (or deactivates). */
export interface CertificatePlan {
  certificateId: string;
  status: 'ACTIVE' | 'INACTIVE';
}

/** A policy to attach: an existing one by name, or one made from a document. */
export interface PolicyPlan {
  policyName: string;
  /** The document, when the template gives one (the name is then its SHA-256). */
  policyDocument?: string;
}

/** Everything RegisterThing does for one request, before it touches the registry. */
export interface ProvisioningPlan {
  thing?: ThingPlan;
  certificate?: CertificatePlan;
  policies: PolicyPlan[];
  deviceConfiguration: Record<string, string>;
}

/** Inputs of {@link evaluateTemplate}. */
export interface TemplateInputs {
  /** The device's parameters, with the pre-provisioning hook's overrides applied. */
  parameters: Readonly<Record<string, string>>;
  /** Id of the certificate being registered (`AWS::IoT::Certificate::Id`). */
  certificateId: string;
}

/**
 * Evaluates a parsed template for one RegisterThing request: parameters (device values over
 * defaults; `AWS::IoT::Certificate::Id` set by the service), conditions, intrinsic functions,
 * then the resources and DeviceConfiguration.
 * @throws ProvisioningTemplateError when a parameter has no value or a value cannot be resolved.
 */
export function evaluateTemplate(
  template: ParsedTemplate,
  inputs: TemplateInputs,
): ProvisioningPlan {
  const parameters: Record<string, string> = {};
  for (const [name, declared] of Object.entries(template.parameters)) {
    const value = inputs.parameters[name] ?? declared.default;
    if (value !== undefined) parameters[name] = value;
    else if (name !== CERTIFICATE_ID_PARAMETER) {
      throw new ProvisioningTemplateError(`Parameter ${name} has no value and no Default`);
    }
  }
  parameters[CERTIFICATE_ID_PARAMETER] = inputs.certificateId;
  const base = { parameters, mappings: template.mappings };
  // Condition functions reach here only when the parser accepted them (conditions enabled).
  const context: IntrinsicContext = {
    ...base,
    condition: conditionEvaluator(template.conditions, base),
  };
  const plan: ProvisioningPlan = { policies: [], deviceConfiguration: {} };
  for (const [name, resource] of Object.entries(template.resources)) {
    if (resource.condition !== undefined && !context.condition?.(resource.condition)) continue;
    switch (resource.type) {
      case 'AWS::IoT::Thing':
        plan.thing = thingPlan(name, resource, context);
        break;
      case 'AWS::IoT::Certificate':
        plan.certificate = certificatePlan(name, resource, context);
        break;
      case 'AWS::IoT::Policy':
        plan.policies.push(policyPlan(name, resource, context));
        break;
    }
  }
  for (const [name, value] of Object.entries(template.deviceConfiguration)) {
    const resolved = resolveValue(value, context);
    if (typeof resolved === 'string') plan.deviceConfiguration[name] = resolved;
    else if (typeof resolved === 'number' || typeof resolved === 'boolean') {
      plan.deviceConfiguration[name] = String(resolved);
    } else if (typeof resolved !== 'symbol') {
      throw new ProvisioningTemplateError(
        `DeviceConfiguration.${name} must resolve to a string (nested JSON is not supported)`,
      );
    }
  }
  return plan;
}

function thingPlan(name: string, resource: TemplateResource, context: IntrinsicContext): ThingPlan {
  const properties = resolvedProperties(resource, context);
  const where = `Resource ${name}`;
  const plan: ThingPlan = {
    thingName: stringProperty(properties, 'ThingName', where) ?? '',
    overrides: {
      AttributePayload: resource.overrideSettings['AttributePayload'] ?? 'DO_NOTHING',
      ThingTypeName: resource.overrideSettings['ThingTypeName'] ?? 'DO_NOTHING',
      ThingGroups: resource.overrideSettings['ThingGroups'] ?? 'DO_NOTHING',
    },
  };
  const payload = properties['AttributePayload'];
  if (payload !== undefined) {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new ProvisioningTemplateError(`${where}: AttributePayload must be a map`);
    }
    plan.attributes = {};
    for (const key of Object.keys(payload)) {
      plan.attributes[key] = stringProperty(payload as Record<string, unknown>, key, where) ?? '';
    }
  }
  const thingTypeName = stringProperty(properties, 'ThingTypeName', where);
  if (thingTypeName !== undefined) plan.thingTypeName = thingTypeName;
  const groups = properties['ThingGroups'];
  if (groups !== undefined) {
    if (!Array.isArray(groups) || groups.some((group) => typeof group !== 'string')) {
      throw new ProvisioningTemplateError(
        `${where}: ThingGroups must resolve to a list of group names`,
      );
    }
    plan.thingGroups = [...new Set(groups as string[])];
  }
  return plan;
}

function certificatePlan(
  name: string,
  resource: TemplateResource,
  context: IntrinsicContext,
): CertificatePlan {
  const properties = resolvedProperties(resource, context);
  const where = `Resource ${name}`;
  const certificateId = stringProperty(properties, 'CertificateId', where) ?? '';
  // The developer guide's own example writes "Active": the value is read case-insensitively.
  const status = (stringProperty(properties, 'Status', where) ?? 'ACTIVE').toUpperCase();
  if (status !== 'ACTIVE' && status !== 'INACTIVE') {
    throw new ProvisioningTemplateError(`${where}: Status must be ACTIVE or INACTIVE`);
  }
  return { certificateId, status };
}

function policyPlan(
  name: string,
  resource: TemplateResource,
  context: IntrinsicContext,
): PolicyPlan {
  const properties = resolvedProperties(resource, context);
  const policyName = stringProperty(properties, 'PolicyName', `Resource ${name}`);
  if (policyName !== undefined) return { policyName };
  const document = properties['PolicyDocument'];
  // A JSON object given as an escaped string (bulk and JITP examples) or as an object (the
  // fleet provisioning example).
  const policyDocument = typeof document === 'string' ? document : JSON.stringify(document);
  // "PolicyName: Optional. Defaults to a hash of the policy document."
  return { policyName: createHash('sha256').update(policyDocument).digest('hex'), policyDocument };
}

/** The resource's properties with every intrinsic resolved (`AWS::NoValue` ones dropped). */
function resolvedProperties(
  resource: TemplateResource,
  context: IntrinsicContext,
): Record<string, unknown> {
  return resolveValue(resource.properties, context) as Record<string, unknown>;
}

/** A resolved property that must be a string when present. */
function stringProperty(
  properties: Record<string, unknown>,
  key: string,
  where: string,
): string | undefined {
  const value = properties[key];
  if (value !== undefined && typeof value !== 'string') {
    throw new ProvisioningTemplateError(`${where}: ${key} must resolve to a string`);
  }
  return value;
}
