import { randomUUID } from 'node:crypto';
import { AutoScalingValidationError } from './errors';
import type { EventBus } from './event-bus';

/** The transition a terminating hook waits on. */
export const TERMINATING_TRANSITION = 'autoscaling:EC2_INSTANCE_TERMINATING';

/** A lifecycle hook of a group (`AWS::AutoScaling::LifecycleHook`, or the group's own list). */
export interface LifecycleHookDefinition {
  readonly groupName: string;
  readonly hookName: string;
  readonly transition: string;
  /** What happens when the heartbeat timeout passes. @default 'ABANDON' (the API's default) */
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
  /** Seconds an instance waits for `CompleteLifecycleAction`. @default 3600 */
  readonly heartbeatTimeoutSeconds: number;
  readonly notificationMetadata?: string;
}

/** One instance waiting on one hook. */
interface PendingAction {
  readonly hook: LifecycleHookDefinition;
  readonly instanceId: string;
  readonly token: string;
  timer: NodeJS.Timeout;
  readonly finish: (result: string) => void;
}

/** Fields of `CompleteLifecycleAction` / `RecordLifecycleActionHeartbeat`. */
export interface LifecycleActionReference {
  readonly AutoScalingGroupName?: string;
  readonly LifecycleHookName?: string;
  readonly LifecycleActionToken?: string;
  readonly InstanceId?: string;
}

/**
 * Auto Scaling's lifecycle hooks and the actions waiting on them
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html):
 * a terminating instance enters `Terminating:Wait` for every terminating
 * hook of its group at once; each hook's event goes to EventBridge; the
 * instance is terminated once every action is completed
 * (`CompleteLifecycleAction`, by token or instance id) or its heartbeat
 * timeout passed (`RecordLifecycleActionHeartbeat` restarts it).
 */
export class LifecycleActions {
  /** Hooks by group name, then hook name. */
  private readonly hooks = new Map<string, Map<string, LifecycleHookDefinition>>();
  private readonly pending = new Map<string, PendingAction>();

  constructor(
    /** Where lifecycle events go (the account's default event bus). */
    private readonly events: Pick<EventBus, 'put'>,
    private readonly log: (line: string) => void,
  ) {}

  /** PutLifecycleHook (replaces a hook of the same name). */
  putHook(hook: LifecycleHookDefinition): void {
    const group = this.hooks.get(hook.groupName) ?? new Map<string, LifecycleHookDefinition>();
    group.set(hook.hookName, hook);
    this.hooks.set(hook.groupName, group);
  }

  /** DeleteLifecycleHook: instances already waiting on it go on ("abandon"). */
  deleteHook(groupName: string, hookName: string): void {
    this.hooks.get(groupName)?.delete(hookName);
    for (const action of this.pending.values()) {
      if (action.hook.groupName === groupName && action.hook.hookName === hookName)
        action.finish('ABANDON');
    }
  }

  /** The hooks of a group for one transition. */
  hooksOf(groupName: string, transition: string): LifecycleHookDefinition[] {
    return [...(this.hooks.get(groupName)?.values() ?? [])].filter(
      (hook) => hook.transition === transition,
    );
  }

  /**
   * Runs an instance's terminating hooks: emits each hook's EventBridge event
   * (`EC2 Instance-terminate Lifecycle Action`) and resolves when every
   * action is completed or timed out. Without hooks it resolves at once.
   */
  async terminating(groupName: string, groupArn: string, instanceId: string): Promise<void> {
    const hooks = this.hooksOf(groupName, TERMINATING_TRANSITION);
    await Promise.all(hooks.map((hook) => this.wait(hook, groupArn, instanceId)));
  }

  /**
   * CompleteLifecycleAction.
   * @throws {AutoScalingValidationError} when no action of that hook waits
   *   with that token or instance (AWS: "No active Lifecycle Action found…").
   */
  complete(reference: LifecycleActionReference, result: string): void {
    this.find(reference).finish(result);
  }

  /** RecordLifecycleActionHeartbeat: restarts the action's heartbeat timeout. */
  heartbeat(reference: LifecycleActionReference): void {
    const action = this.find(reference);
    clearTimeout(action.timer);
    action.timer = this.timeout(action);
  }

  /** Ends every waiting action with its default result (the stack is going away). */
  close(): void {
    for (const action of [...this.pending.values()]) action.finish(action.hook.defaultResult);
  }

  private wait(hook: LifecycleHookDefinition, groupArn: string, instanceId: string): Promise<void> {
    return new Promise((resolve) => {
      const token = randomUUID();
      const action: PendingAction = {
        hook,
        instanceId,
        token,
        timer: undefined as unknown as NodeJS.Timeout,
        finish: (result) => {
          if (!this.pending.delete(token)) return;
          clearTimeout(action.timer);
          this.log(
            `${hook.groupName}: lifecycle action ${hook.hookName} for ${instanceId}: ${result}`,
          );
          resolve();
        },
      };
      action.timer = this.timeout(action);
      this.pending.set(token, action);
      const sent = this.events.put({
        source: 'aws.autoscaling',
        'detail-type': 'EC2 Instance-terminate Lifecycle Action',
        resources: [groupArn],
        detail: {
          Origin: 'AutoScalingGroup',
          Destination: 'EC2',
          LifecycleActionToken: token,
          AutoScalingGroupName: hook.groupName,
          LifecycleHookName: hook.hookName,
          EC2InstanceId: instanceId,
          LifecycleTransition: hook.transition,
          ...(hook.notificationMetadata === undefined
            ? {}
            : { NotificationMetadata: hook.notificationMetadata }),
        },
      });
      this.log(
        `${hook.groupName}: ${instanceId} waits on ${hook.hookName} (${sent} target(s), heartbeat timeout ${hook.heartbeatTimeoutSeconds} s)`,
      );
    });
  }

  private timeout(action: PendingAction): NodeJS.Timeout {
    return setTimeout(
      () => action.finish(`${action.hook.defaultResult} (heartbeat timeout)`),
      action.hook.heartbeatTimeoutSeconds * 1000,
    );
  }

  private find(reference: LifecycleActionReference): PendingAction {
    const { AutoScalingGroupName: group, LifecycleHookName: hook } = reference;
    const { LifecycleActionToken: token, InstanceId: instanceId } = reference;
    const found = [...this.pending.values()].find(
      (action) =>
        action.hook.groupName === group &&
        action.hook.hookName === hook &&
        (token === undefined ? action.instanceId === instanceId : action.token === token),
    );
    if (!found) {
      throw new AutoScalingValidationError(
        token === undefined
          ? `No active Lifecycle Action found with instance ID ${instanceId}`
          : `No active Lifecycle Action found with token ${token}`,
      );
    }
    return found;
  }
}
