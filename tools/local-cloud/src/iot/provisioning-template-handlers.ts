import { IotServiceError, ProvisioningTemplateError } from '../errors';
import { parseTemplateBody, type TemplateFeatures } from '../fleet/template-body';
import type { ProvisioningTemplateRecord } from '../iot-registry';
import type { IotHandlers, RegistryHandlerDeps } from './handler';
import { pageSize, paginate } from './paging';
import { shownValue, validationError, validTemplateName } from './request-validation';

/** What the provisioning template operations need. */
export interface ProvisioningTemplateHandlerDeps extends RegistryHandlerDeps {
  /** Optional template features accepted (CloudFormation conditions). */
  templateFeatures: TemplateFeatures;
}

type ProvisioningTemplateOperation =
  | 'CreateProvisioningTemplate'
  | 'DescribeProvisioningTemplate'
  | 'ListProvisioningTemplates'
  | 'UpdateProvisioningTemplate'
  | 'DeleteProvisioningTemplate';

/**
 * "Maximum number of fleet provisioning templates per customer": 256 (AWS IoT Core quotas as
 * recalled, *unverified*).
 */
export const MAX_PROVISIONING_TEMPLATES = 256;

/** The only pre-provisioning hook payload version AWS defines. */
const HOOK_PAYLOAD_VERSION = '2020-04-01';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[\w$-]+)?$/;

/**
 * Handlers of the provisioning template operations
 * (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateProvisioningTemplate.html):
 * create (body parsed and checked as RegisterThing will evaluate it), describe, list, update
 * (description, enabled, role, hook) and delete. Template versions are not emulated: every
 * template has its one version, 1.
 */
export function provisioningTemplateHandlers(
  deps: ProvisioningTemplateHandlerDeps,
): IotHandlers<ProvisioningTemplateOperation> {
  const { registry, arnPrefix } = deps;
  return {
    CreateProvisioningTemplate: async ({ body }) => {
      const name = validTemplateName(stringMember(body, 'templateName'));
      const templateBody = stringMember(body, 'templateBody');
      if (templateBody === undefined)
        throw validationError('templateBody', 'null', 'Member must not be null');
      const type = body['type'] ?? 'FLEET_PROVISIONING';
      if (type !== 'FLEET_PROVISIONING' && type !== 'JITP') {
        throw validationError(
          'type',
          shownValue(type),
          'Member must satisfy enum value set: [FLEET_PROVISIONING, JITP]',
        );
      }
      const hook = hookOf(body['preProvisioningHook']);
      if (hook !== undefined && type === 'JITP') {
        throw invalid('A pre-provisioning hook can only be set on a FLEET_PROVISIONING template');
      }
      if (registry.provisioningTemplates.has(name)) {
        throw new IotServiceError(
          'ResourceAlreadyExistsException',
          409,
          `Provisioning template ${name} already exists`,
        );
      }
      if (registry.provisioningTemplates.size >= MAX_PROVISIONING_TEMPLATES) {
        throw new IotServiceError(
          'LimitExceededException',
          410,
          `An account can have at most ${MAX_PROVISIONING_TEMPLATES} provisioning templates`,
        );
      }
      checkTemplateBody(templateBody, deps.templateFeatures);
      const now = Date.now();
      const record: ProvisioningTemplateRecord = {
        templateName: name,
        templateArn: `${arnPrefix}:provisioningtemplate/${name}`,
        description: descriptionOf(body['description']),
        templateBody,
        enabled: booleanMember(body, 'enabled') ?? false,
        provisioningRoleArn: roleArnOf(body['provisioningRoleArn']),
        preProvisioningHook: hook,
        type,
        creationDate: now,
        lastModifiedDate: now,
      };
      registry.provisioningTemplates.set(name, record);
      await registry.save();
      return { templateArn: record.templateArn, templateName: name, defaultVersionId: 1 };
    },
    DescribeProvisioningTemplate: ({ params }) => {
      const record = findTemplate(deps, params[0]);
      return {
        ...summaryOf(record),
        defaultVersionId: 1,
        templateBody: record.templateBody,
        provisioningRoleArn: record.provisioningRoleArn,
        preProvisioningHook: record.preProvisioningHook,
      };
    },
    ListProvisioningTemplates: ({ query }) => {
      const all = [...registry.provisioningTemplates.values()].sort((a, b) =>
        a.templateName.localeCompare(b.templateName),
      );
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 25, 250),
      );
      return { templates: page.items.map(summaryOf), nextToken: page.next };
    },
    UpdateProvisioningTemplate: async ({ params, body }) => {
      const record = findTemplate(deps, params[0]);
      const hook = hookOf(body['preProvisioningHook']);
      const removeHook = booleanMember(body, 'removePreProvisioningHook') === true;
      if (hook !== undefined && removeHook) {
        throw invalid('preProvisioningHook and removePreProvisioningHook cannot be given together');
      }
      if (hook !== undefined && record.type === 'JITP') {
        throw invalid('A pre-provisioning hook can only be set on a FLEET_PROVISIONING template');
      }
      const version = body['defaultVersionId'];
      if (version !== undefined && version !== 1) {
        throw new IotServiceError(
          'ResourceNotFoundException',
          404,
          `Version ${shownValue(version)} of provisioning template ${record.templateName} does not exist (local-cloud keeps version 1 only)`,
        );
      }
      const updated: ProvisioningTemplateRecord = {
        ...record,
        description:
          body['description'] === undefined
            ? record.description
            : descriptionOf(body['description']),
        enabled: booleanMember(body, 'enabled') ?? record.enabled,
        provisioningRoleArn:
          body['provisioningRoleArn'] === undefined
            ? record.provisioningRoleArn
            : roleArnOf(body['provisioningRoleArn']),
        preProvisioningHook: removeHook ? undefined : (hook ?? record.preProvisioningHook),
        lastModifiedDate: Date.now(),
      };
      registry.provisioningTemplates.set(record.templateName, updated);
      await registry.save();
      return {};
    },
    DeleteProvisioningTemplate: async ({ params }) => {
      const record = findTemplate(deps, params[0]);
      registry.provisioningTemplates.delete(record.templateName);
      await registry.save();
      return {};
    },
  };
}

function findTemplate(
  deps: RegistryHandlerDeps,
  name: string | undefined,
): ProvisioningTemplateRecord {
  const record = deps.registry.provisioningTemplates.get(validTemplateName(name));
  if (record === undefined) {
    throw new IotServiceError(
      'ResourceNotFoundException',
      404,
      `The provisioning template ${name} does not exist`,
    );
  }
  return record;
}

function summaryOf(record: ProvisioningTemplateRecord): Record<string, unknown> {
  return {
    templateArn: record.templateArn,
    templateName: record.templateName,
    description: record.description,
    creationDate: record.creationDate / 1000,
    lastModifiedDate: record.lastModifiedDate / 1000,
    enabled: record.enabled,
    type: record.type,
  };
}

/** A template body RegisterThing could not evaluate is refused when it is stored. */
function checkTemplateBody(templateBody: string, features: TemplateFeatures): void {
  try {
    parseTemplateBody(templateBody, features);
  } catch (error) {
    if (error instanceof ProvisioningTemplateError) {
      throw new IotServiceError(
        'InvalidRequestException',
        400,
        `The template body is not valid: ${error.message}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

function hookOf(value: unknown): ProvisioningTemplateRecord['preProvisioningHook'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('preProvisioningHook must be an object');
  }
  const { targetArn, payloadVersion } = value as Record<string, unknown>;
  // "Only Lambda functions are currently supported."
  if (typeof targetArn !== 'string' || !LAMBDA_ARN.test(targetArn)) {
    throw invalid(
      `preProvisioningHook.targetArn must be the ARN of a Lambda function, got ${shownValue(targetArn)}`,
    );
  }
  if (payloadVersion !== undefined && payloadVersion !== HOOK_PAYLOAD_VERSION) {
    throw invalid(`preProvisioningHook.payloadVersion must be ${HOOK_PAYLOAD_VERSION}`);
  }
  return { targetArn, payloadVersion: HOOK_PAYLOAD_VERSION };
}

function roleArnOf(value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length < 20 ||
    value.length > 2048 ||
    !ROLE_ARN.test(value)
  ) {
    throw validationError(
      'provisioningRoleArn',
      shownValue(value),
      'Member must be the ARN of an IAM role (length 20 to 2048)',
    );
  }
  return value;
}

function descriptionOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 500) {
    throw validationError(
      'description',
      shownValue(value).slice(0, 64),
      'Member must have length less than or equal to 500',
    );
  }
  return value;
}

function stringMember(body: Record<string, unknown>, member: string): string | undefined {
  return typedMember(body, member, 'string') as string | undefined;
}

function booleanMember(body: Record<string, unknown>, member: string): boolean | undefined {
  return typedMember(body, member, 'boolean') as boolean | undefined;
}

/** A body member that is absent or of JSON type `type`. */
function typedMember(
  body: Record<string, unknown>,
  member: string,
  type: 'string' | 'boolean',
): unknown {
  const value = body[member];
  if (value !== undefined && typeof value !== type) {
    throw validationError(member, shownValue(value), `Member must be a ${type}`);
  }
  return value;
}

function invalid(message: string): IotServiceError {
  return new IotServiceError('InvalidRequestException', 400, message);
}
