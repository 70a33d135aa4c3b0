import { randomUUID } from 'node:crypto';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeletePolicyCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { ResourceStepError } from '../errors';
import { regionalArn, templateOrGeneratedName } from '../physical-names';
import { runStep, type ResourceProvider, type StackEnvironment } from '../resource-provider';

/** `AWS::IoT::Thing` in the local IoT registry. */
export function iotThingProvider(iot: IoTClient, stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(properties.ThingName, stack.stackName, logicalId);
      await runStep(logicalId, 'CreateThing', () =>
        iot.send(new CreateThingCommand({ thingName: name })),
      );
      stack.log(`created ${logicalId} (thing ${name})`);
      return {
        physicalId: name,
        attributes: { Arn: regionalArn(stack, 'iot', `thing/${name}`), Id: randomUUID() },
      };
    },
    // AttributePayload is "No interruption" on AWS (UpdateThing); ThingName
    // changes replace the thing and never get here.
    update: ({ logicalId }) => notEmulated(logicalId, 'UpdateThing', 'thing attributes'),
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeleteThing', () =>
        iot.send(new DeleteThingCommand({ thingName: physicalId })),
      );
    },
  };
}

/** `AWS::IoT::Policy` in the local IoT registry. */
export function iotPolicyProvider(iot: IoTClient, stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(properties.PolicyName, stack.stackName, logicalId);
      const document =
        typeof properties.PolicyDocument === 'string'
          ? properties.PolicyDocument
          : JSON.stringify(properties.PolicyDocument);
      await runStep(logicalId, 'CreatePolicy', () =>
        iot.send(new CreatePolicyCommand({ policyName: name, policyDocument: document })),
      );
      stack.log(`created ${logicalId} (policy ${name})`);
      return {
        physicalId: name,
        attributes: { Arn: regionalArn(stack, 'iot', `policy/${name}`), Id: name },
      };
    },
    // A new PolicyDocument is a new default policy version on AWS; PolicyName
    // changes replace the policy and never get here.
    update: ({ logicalId }) =>
      notEmulated(logicalId, 'CreatePolicyVersion', 'policy documents (policy versions)'),
    async delete({ logicalId, physicalId }) {
      await runStep(logicalId, 'DeletePolicy', () =>
        iot.send(new DeletePolicyCommand({ policyName: physicalId })),
      );
    },
  };
}

/**
 * An in-place update AWS would make but the local IoT registry cannot: the
 * step fails (and the stack rolls back) rather than pretend it happened.
 */
export function notEmulated(logicalId: string, step: string, what: string): Promise<never> {
  return Promise.reject(
    new ResourceStepError(logicalId, step, `an in-place update of ${what} is not emulated locally`),
  );
}

/** How one kind of principal attachment is made and undone. */
interface AttachmentKind {
  /** The property naming what the principal is attached to. */
  readonly targetProperty: 'PolicyName' | 'ThingName';
  readonly attachStep: string;
  attach(target: string, principal: string): Promise<unknown>;
  readonly detachStep: string;
  detach(target: string, principal: string): Promise<unknown>;
  /** What the log says was created. */
  describe(target: string): string;
}

/** An attachment of a certificate (principal) to a target; its physical id is `<target>|<principal>`. */
function attachmentProvider(kind: AttachmentKind, stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const target = String(properties[kind.targetProperty]);
      const principal = String(properties.Principal);
      await runStep(logicalId, kind.attachStep, () => kind.attach(target, principal));
      stack.log(`created ${logicalId} (${kind.describe(target)})`);
      return { physicalId: `${target}|${principal}`, attributes: {} };
    },
    async delete({ logicalId, properties }) {
      const target = String(properties[kind.targetProperty]);
      const principal = String(properties.Principal);
      await runStep(logicalId, kind.detachStep, () => kind.detach(target, principal));
    },
  };
}

/** `AWS::IoT::PolicyPrincipalAttachment`: AttachPolicy / DetachPolicy. */
export function policyPrincipalAttachmentProvider(
  iot: IoTClient,
  stack: StackEnvironment,
): ResourceProvider {
  return attachmentProvider(
    {
      targetProperty: 'PolicyName',
      attachStep: 'AttachPolicy',
      attach: (policyName, target) => iot.send(new AttachPolicyCommand({ policyName, target })),
      detachStep: 'DetachPolicy',
      detach: (policyName, target) => iot.send(new DetachPolicyCommand({ policyName, target })),
      describe: (policyName) => `policy ${policyName} → certificate`,
    },
    stack,
  );
}

/** `AWS::IoT::ThingPrincipalAttachment`: AttachThingPrincipal / DetachThingPrincipal. */
export function thingPrincipalAttachmentProvider(
  iot: IoTClient,
  stack: StackEnvironment,
): ResourceProvider {
  return attachmentProvider(
    {
      targetProperty: 'ThingName',
      attachStep: 'AttachThingPrincipal',
      attach: (thingName, principal) =>
        iot.send(new AttachThingPrincipalCommand({ thingName, principal })),
      detachStep: 'DetachThingPrincipal',
      detach: (thingName, principal) =>
        iot.send(new DetachThingPrincipalCommand({ thingName, principal })),
      describe: (thingName) => `thing ${thingName} ↔ certificate`,
    },
    stack,
  );
}
