import {
  CreateProvisioningTemplateCommand,
  CreateThingGroupCommand,
  DeleteProvisioningTemplateCommand,
  DeleteThingGroupCommand,
  UpdateProvisioningTemplateCommand,
  type IoTClient,
  type ProvisioningHook,
} from '@aws-sdk/client-iot';
import { ResourceStepError } from '../errors';
import { templateOrGeneratedName } from '../physical-names';
import {
  runStep,
  type DeployedResource,
  type ResourceProvider,
  type StackEnvironment,
} from '../resource-provider';
import { changedProperties } from '../update-behaviour';
import { notEmulated } from './iot';

/** Provisioning template names are 1–36 characters. */
const MAX_TEMPLATE_NAME = 36;

/**
 * `AWS::IoT::ThingGroup` (a static group) in the local IoT registry:
 * CreateThingGroup / DeleteThingGroup. DeleteThingGroup does not need the
 * group empty: its things just leave it, as on AWS. `Ref` is the name,
 * `Arn` and `Id` its attributes.
 */
export function iotThingGroupProvider(iot: IoTClient, stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      if (properties.QueryString !== undefined) {
        throw new ResourceStepError(
          logicalId,
          'CreateDynamicThingGroup',
          'dynamic thing groups (QueryString) are not emulated locally',
        );
      }
      const name = templateOrGeneratedName(properties.ThingGroupName, stack.stackName, logicalId);
      const groupProperties = (properties.ThingGroupProperties ?? {}) as {
        ThingGroupDescription?: string;
        AttributePayload?: { Attributes?: Record<string, string> };
      };
      const created = await runStep(logicalId, 'CreateThingGroup', () =>
        iot.send(
          new CreateThingGroupCommand({
            thingGroupName: name,
            ...(typeof properties.ParentGroupName === 'string'
              ? { parentGroupName: properties.ParentGroupName }
              : {}),
            thingGroupProperties: {
              ...(groupProperties.ThingGroupDescription === undefined
                ? {}
                : { thingGroupDescription: groupProperties.ThingGroupDescription }),
              ...(groupProperties.AttributePayload?.Attributes === undefined
                ? {}
                : {
                    attributePayload: { attributes: groupProperties.AttributePayload.Attributes },
                  }),
            },
          }),
        ),
      );
      stack.log(`created ${logicalId} (thing group ${name})`);
      return {
        physicalId: name,
        attributes: { Arn: created.thingGroupArn, Id: created.thingGroupId },
      };
    },
    // ThingGroupProperties is "No interruption" on AWS (UpdateThingGroup,
    // which the local registry lacks); the name and parent replace the group.
    update: ({ logicalId }) => notEmulated(logicalId, 'UpdateThingGroup', 'thing group properties'),
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeleteThingGroup', () =>
        iot.send(new DeleteThingGroupCommand({ thingGroupName: physicalId })),
      );
    },
  };
}

/** What `AWS::IoT::ProvisioningTemplate` says of its pre-provisioning hook. */
interface TemplateHookProperty {
  readonly TargetArn?: string;
  readonly PayloadVersion?: string;
}

function hookOf(properties: Readonly<Record<string, unknown>>): ProvisioningHook | undefined {
  const hook = properties.PreProvisioningHook as TemplateHookProperty | undefined;
  if (!hook) return undefined;
  return {
    targetArn: hook.TargetArn,
    ...(hook.PayloadVersion === undefined ? {} : { payloadVersion: hook.PayloadVersion }),
  };
}

/** `TemplateBody` is a JSON string in the template; a hand-written one may give an object. */
function bodyOf(properties: Readonly<Record<string, unknown>>): string {
  return typeof properties.TemplateBody === 'string'
    ? properties.TemplateBody
    : JSON.stringify(properties.TemplateBody);
}

/** `Enabled` may come as a boolean or, through a parameter, as the string "true". */
function enabledOf(properties: Readonly<Record<string, unknown>>): boolean | undefined {
  const { Enabled } = properties;
  return Enabled === undefined ? undefined : Enabled === true || Enabled === 'true';
}

/**
 * `AWS::IoT::ProvisioningTemplate` through the local IoT control plane:
 * CreateProvisioningTemplate (`Enabled` is passed as given: AWS's default is
 * false), UpdateProvisioningTemplate for the description, `Enabled`, the
 * role and the hook (`removePreProvisioningHook` when the hook goes), and
 * DeleteProvisioningTemplate. A template with a pre-provisioning hook makes
 * the stack's functions invocable by the local IoT (`useFunctions`), as AWS
 * IoT invokes the hook's Lambda. `Ref` is the name; `TemplateArn` its attribute.
 */
export function iotProvisioningTemplateProvider(
  iot: IoTClient,
  stack: StackEnvironment,
  /** Lets the local IoT invoke the stack's functions (hooks). */
  useFunctions: () => void,
): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(
        properties.TemplateName,
        stack.stackName,
        logicalId,
        MAX_TEMPLATE_NAME,
      );
      const hook = hookOf(properties);
      if (hook) useFunctions();
      const enabled = enabledOf(properties);
      const created = await runStep(logicalId, 'CreateProvisioningTemplate', () =>
        iot.send(
          new CreateProvisioningTemplateCommand({
            templateName: name,
            templateBody: bodyOf(properties),
            provisioningRoleArn: String(properties.ProvisioningRoleArn),
            ...(enabled === undefined ? {} : { enabled }),
            ...(typeof properties.Description === 'string'
              ? { description: properties.Description }
              : {}),
            ...(typeof properties.TemplateType === 'string'
              ? { type: properties.TemplateType as 'FLEET_PROVISIONING' | 'JITP' }
              : {}),
            ...(hook ? { preProvisioningHook: hook } : {}),
          }),
        ),
      );
      stack.log(`created ${logicalId} (provisioning template ${name})`);
      return { physicalId: name, attributes: { TemplateArn: created.templateArn } };
    },
    async update(request, current: DeployedResource) {
      const { logicalId, properties } = request;
      const changed = changedProperties(current.properties, properties);
      // A new body is a new template version on AWS (CreateProvisioningTemplateVersion).
      if (changed.includes('TemplateBody'))
        return notEmulated(logicalId, 'CreateProvisioningTemplateVersion', 'template bodies');
      const hook = hookOf(properties);
      if (hook) useFunctions();
      const enabled = enabledOf(properties);
      await runStep(logicalId, 'UpdateProvisioningTemplate', () =>
        iot.send(
          new UpdateProvisioningTemplateCommand({
            templateName: current.physicalId,
            provisioningRoleArn: String(properties.ProvisioningRoleArn),
            enabled: enabled ?? false,
            ...(typeof properties.Description === 'string'
              ? { description: properties.Description }
              : {}),
            ...(hook
              ? { preProvisioningHook: hook }
              : hookOf(current.properties)
                ? { removePreProvisioningHook: true }
                : {}),
          }),
        ),
      );
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeleteProvisioningTemplate', () =>
        iot.send(new DeleteProvisioningTemplateCommand({ templateName: physicalId })),
      );
    },
  };
}
