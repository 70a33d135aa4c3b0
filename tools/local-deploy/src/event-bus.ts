import { randomUUID } from 'node:crypto';
import { invokeAsynchronously, type FunctionCallContext } from './function-calls';
import { matchesEventPattern } from './event-pattern';

/** One target of a rule, as `AWS::Events::Rule` `Targets` gives it. */
export interface EventTarget {
  readonly Id: string;
  readonly Arn: string;
  /** Constant JSON sent instead of the event. */
  readonly Input?: string;
}

/** A rule on the default event bus. */
export interface EventRule {
  readonly name: string;
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly targets: readonly EventTarget[];
}

/** What a service puts on the bus (the envelope's `id`, `time`, `version` are added). */
export interface ServiceEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * The account's default EventBridge bus, for the events AWS services put
 * there (Auto Scaling's lifecycle actions): each enabled rule whose pattern
 * matches sends the event to its targets. A Lambda target is invoked
 * asynchronously, as EventBridge does
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html):
 * Lambda retries a failed attempt twice. Other target types are not emulated
 * (logged, not delivered).
 */
export class EventBus {
  private readonly rules = new Map<string, EventRule>();

  constructor(private readonly functions: FunctionCallContext) {}

  /** PutRule + PutTargets (a rule of the same name is replaced). */
  putRule(rule: EventRule): void {
    this.rules.set(rule.name, rule);
  }

  /** DeleteRule (after RemoveTargets). */
  deleteRule(name: string): void {
    this.rules.delete(name);
  }

  /**
   * PutEvents from a service: delivers the event to the targets of every
   * matching rule; returns how many targets it was sent to.
   */
  put(serviceEvent: ServiceEvent): number {
    const { stack } = this.functions;
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': serviceEvent['detail-type'],
      source: serviceEvent.source,
      account: stack.accountId,
      // EventBridge's `time` has no fractional seconds.
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: stack.region,
      resources: serviceEvent.resources,
      detail: serviceEvent.detail,
    };
    let sent = 0;
    for (const rule of this.rules.values()) {
      if (!rule.enabled || !matchesEventPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        if (!target.Arn.includes(':lambda:')) {
          stack.log(`rule ${rule.name}: target ${target.Id} (${target.Arn}) is not emulated`);
          continue;
        }
        const input: unknown = target.Input === undefined ? event : JSON.parse(target.Input);
        stack.log(`rule ${rule.name}: ${event['detail-type']} → ${target.Arn}`);
        invokeAsynchronously(this.functions, target.Arn, input);
        sent++;
      }
    }
    return sent;
  }
}
