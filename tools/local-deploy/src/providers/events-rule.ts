import type { EventBus, EventTarget } from '../event-bus';
import { validateEventPattern } from '../event-pattern';
import { regionalArn, templateOrGeneratedName } from '../physical-names';
import { runStep, type ResourceProvider, type StackEnvironment } from '../resource-provider';

/** Rule names are at most 64 characters. */
const MAX_RULE_NAME = 64;

/**
 * `AWS::Events::Rule` on the default event bus: its `EventPattern` (an
 * object, or a JSON string) and `Targets` are stored on the local
 * {@link EventBus}, which delivers the events AWS services put there; `State`
 * `DISABLED` stops delivery (ENABLED is the default). A pattern with a filter
 * the emulation does not know fails the step. Scheduled rules and other
 * buses are not emulated (the step fails). `Ref` is the rule name, `Arn` its
 * attribute.
 */
export function eventsRuleProvider(events: EventBus, stack: StackEnvironment): ResourceProvider {
  const put = async (
    logicalId: string,
    properties: Readonly<Record<string, unknown>>,
    name: string,
  ): Promise<void> => {
    await runStep(logicalId, 'PutRule', async () => {
      if (properties.ScheduleExpression !== undefined)
        throw new Error('scheduled rules are not emulated locally');
      if (properties.EventBusName !== undefined && properties.EventBusName !== 'default')
        throw new Error('only the default event bus is emulated locally');
      const pattern: unknown =
        typeof properties.EventPattern === 'string'
          ? JSON.parse(properties.EventPattern)
          : properties.EventPattern;
      validateEventPattern(pattern);
      events.putRule({
        name,
        pattern: pattern as Record<string, unknown>,
        enabled: properties.State === undefined || properties.State === 'ENABLED',
        targets: (properties.Targets ?? []) as EventTarget[],
      });
    });
  };
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(
        properties.Name,
        stack.stackName,
        logicalId,
        MAX_RULE_NAME,
      );
      await put(logicalId, properties, name);
      stack.log(`created ${logicalId} (rule ${name})`);
      return {
        physicalId: name,
        attributes: { Arn: regionalArn(stack, 'events', `rule/${name}`) },
      };
    },
    async update({ logicalId, properties }, current) {
      await put(logicalId, properties, current.physicalId);
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete({ physicalId }) {
      events.deleteRule(physicalId);
    },
  };
}
