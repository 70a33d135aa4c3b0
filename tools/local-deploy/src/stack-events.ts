/**
 * The status of a stack, as CloudFormation reports it (`DescribeStacks`).
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes
 */
export type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_COMPLETE'
  | 'ROLLBACK_FAILED'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED';

/** The status of one resource in a stack event. */
export type ResourceStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_COMPLETE'
  | 'CREATE_FAILED'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED'
  | 'DELETE_SKIPPED';

/** The `ResourceType` CloudFormation gives the events of the stack itself. */
export const STACK_RESOURCE_TYPE = 'AWS::CloudFormation::Stack';

/**
 * One stack event, as `DescribeStackEvents` lists it. The stack's own events
 * have the stack name as `logicalId`, the stack id as `physicalId` and
 * {@link STACK_RESOURCE_TYPE} as `resourceType`.
 */
export interface StackEvent {
  readonly timestamp: Date;
  readonly logicalId: string;
  /** Absent while a resource has no physical id yet (`CREATE_IN_PROGRESS`). */
  readonly physicalId: string | undefined;
  readonly resourceType: string;
  readonly status: StackStatus | ResourceStatus;
  readonly reason: string | undefined;
}

/** What a resource event names. */
export interface EventResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
}

/** What a stack operation ends in: its final status and the reason CloudFormation gives. */
export interface StackOperationResult {
  readonly status: StackStatus;
  readonly reason: string | undefined;
}

/** The resource statuses of a step going as planned: printed as routine lines. */
const ROUTINE: ReadonlySet<string> = new Set([
  'CREATE_IN_PROGRESS',
  'CREATE_COMPLETE',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE',
  'DELETE_IN_PROGRESS',
  'DELETE_COMPLETE',
]);

/**
 * The events of one stack, oldest first, and its current status. Each event is
 * also printed through `print` (one line), so a run's log reads like the
 * console's Events tab; `routine` marks a resource's event of a step going as
 * planned (a CLI may show only the others: stack statuses, failures, skips).
 */
export class StackEventLog {
  private readonly recorded: StackEvent[] = [];
  private current: StackOperationResult | undefined;

  constructor(
    private readonly stack: { readonly stackName: string; readonly stackId: string },
    private readonly print: (line: string, routine: boolean) => void,
  ) {}

  /** Every event so far, oldest first. */
  get events(): readonly StackEvent[] {
    return this.recorded;
  }

  /** The stack's status and its reason; `undefined` before the first operation. */
  get status(): StackOperationResult | undefined {
    return this.current;
  }

  /** Records a stack status change. */
  stackStatus(status: StackStatus, reason?: string): void {
    this.current = { status, reason };
    this.add({
      logicalId: this.stack.stackName,
      physicalId: this.stack.stackId,
      resourceType: STACK_RESOURCE_TYPE,
      status,
      reason,
    });
  }

  /** Records a resource status change. */
  resource(resource: EventResource, status: ResourceStatus, reason?: string): void {
    this.add({
      logicalId: resource.logicalId,
      physicalId: resource.physicalId,
      resourceType: resource.type,
      status,
      reason,
    });
  }

  private add(event: Omit<StackEvent, 'timestamp'>): void {
    this.recorded.push({ timestamp: new Date(), ...event });
    const stack = event.resourceType === STACK_RESOURCE_TYPE;
    const id = stack || event.physicalId === undefined ? '' : ` (${event.physicalId})`;
    const reason = event.reason === undefined ? '' : `: ${event.reason}`;
    const routine = !stack && ROUTINE.has(event.status) && event.reason === undefined;
    this.print(`${event.logicalId}${id} ${event.status}${reason}`, routine);
  }
}
