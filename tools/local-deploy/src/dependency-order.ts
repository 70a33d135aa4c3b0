import { TemplateError } from './errors';
import type { Template } from './cloud-assembly';
import { referencedResources } from './intrinsics';

/** Each resource's dependencies: `DependsOn` plus every `Ref`/`GetAtt`/`Sub` target. */
export function dependenciesOf(template: Template): Map<string, Set<string>> {
  const ids = new Set(Object.keys(template.Resources));
  const result = new Map<string, Set<string>>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const deps = referencedResources(
      { p: resource.Properties ?? {}, m: resource.Metadata ?? {} },
      ids,
    );
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    for (const dep of dependsOn) {
      if (!ids.has(dep)) throw new TemplateError(`${logicalId} DependsOn unknown resource ${dep}`);
      deps.add(dep);
    }
    deps.delete(logicalId);
    result.set(logicalId, deps);
  }
  return result;
}

/**
 * A creation order in which every resource comes after what it depends on
 * (stable: template order among independent resources). Delete in reverse.
 *
 * @throws {TemplateError} on a dependency cycle, naming the resources in it.
 */
export function deployOrder(template: Template): string[] {
  const deps = dependenciesOf(template);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting')
      throw new TemplateError(`dependency cycle: ${[...path, id].join(' → ')}`);
    state.set(id, 'visiting');
    for (const dep of deps.get(id) ?? []) visit(dep, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of Object.keys(template.Resources)) visit(id, []);
  return order;
}
