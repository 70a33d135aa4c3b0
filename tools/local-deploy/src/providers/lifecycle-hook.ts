import { ResourceStepError } from '../errors';
import {
  TERMINATING_TRANSITION,
  type LifecycleActions,
  type LifecycleHookDefinition,
} from '../lifecycle-actions';
import { templateOrGeneratedName } from '../physical-names';
import type { ResourceProvider, StackEnvironment } from '../resource-provider';

/** Lifecycle hook names are at most 255 characters. */
const MAX_HOOK_NAME = 255;
/** "The default value is 3600 seconds (1 hour)" (PutLifecycleHook). */
const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 3600;

/**
 * A hook from its CloudFormation properties (`AWS::AutoScaling::LifecycleHook`,
 * or an item of a group's `LifecycleHookSpecificationList`: the same
 * names). `HeartbeatTimeout` defaults to 3600 s and `DefaultResult` to
 * ABANDON, as PutLifecycleHook documents; both end a terminating wait by
 * terminating the instance. Only terminating hooks are emulated: a launching
 * hook fails its step rather than be ignored.
 */
export function hookFromSpecification(
  logicalId: string,
  groupName: string,
  properties: Readonly<Record<string, unknown>>,
  hookName = String(properties.LifecycleHookName),
): LifecycleHookDefinition {
  const transition = String(properties.LifecycleTransition);
  if (transition !== TERMINATING_TRANSITION) {
    throw new ResourceStepError(
      logicalId,
      'PutLifecycleHook',
      `lifecycle transition ${transition} is not emulated locally (only ${TERMINATING_TRANSITION})`,
    );
  }
  const timeout = Number(properties.HeartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS);
  if (!Number.isInteger(timeout) || timeout < 30 || timeout > 7200) {
    throw new ResourceStepError(
      logicalId,
      'PutLifecycleHook',
      `ValidationError: HeartbeatTimeout ${String(properties.HeartbeatTimeout)} must be from 30 to 7200 seconds`,
    );
  }
  return {
    groupName,
    hookName,
    transition,
    defaultResult: properties.DefaultResult === 'CONTINUE' ? 'CONTINUE' : 'ABANDON',
    heartbeatTimeoutSeconds: timeout,
    ...(typeof properties.NotificationMetadata === 'string'
      ? { notificationMetadata: properties.NotificationMetadata }
      : {}),
  };
}

/**
 * `AWS::AutoScaling::LifecycleHook`: PutLifecycleHook on its group (the
 * group's terminations wait on it from then on), DeleteLifecycleHook. Its
 * physical id (`Ref`) is the hook name. Deleted before its group in a stack
 * delete (it depends on the group), so the group's own delete no longer
 * waits on it — as on AWS.
 */
export function lifecycleHookProvider(
  lifecycle: LifecycleActions,
  stack: StackEnvironment,
): ResourceProvider {
  const put = (logicalId: string, properties: Readonly<Record<string, unknown>>, name: string) => {
    const hook = hookFromSpecification(
      logicalId,
      String(properties.AutoScalingGroupName),
      properties,
      name,
    );
    lifecycle.putHook(hook);
    return hook;
  };
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(
        properties.LifecycleHookName,
        stack.stackName,
        logicalId,
        MAX_HOOK_NAME,
      );
      const hook = put(logicalId, properties, name);
      stack.log(`created ${logicalId} (lifecycle hook ${name} on ${hook.groupName})`);
      return { physicalId: name, attributes: {} };
    },
    async update({ logicalId, properties }, current) {
      put(logicalId, properties, current.physicalId);
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete({ physicalId, properties }) {
      lifecycle.deleteHook(String(properties.AutoScalingGroupName), physicalId);
    },
  };
}
