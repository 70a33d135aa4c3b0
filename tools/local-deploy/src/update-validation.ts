import type { Template } from './cloud-assembly';
import { isCustomResourceType } from './custom-resource-type';
import { deployOrder } from './dependency-order';
import { TemplateError } from './errors';

/**
 * What CloudFormation refuses before an update starts (UpdateStack answers a
 * ValidationError and the stack is untouched):
 * - a template identical to the deployed one: "No updates are to be performed.";
 * - a resource whose type changes under the same logical id;
 * - a custom resource whose `ServiceToken` changes ("Updates aren't supported",
 *   CLOUDFORMATION-ORDER.md 1.5);
 * - a template whose dependencies cannot be ordered (see `deployOrder`).
 *
 * @throws {TemplateError} naming the first problem found.
 */
export function validateUpdate(deployed: Template, next: Template): void {
  deployOrder(next);
  if (JSON.stringify(deployed) === JSON.stringify(next)) {
    throw new TemplateError('No updates are to be performed.');
  }
  for (const [logicalId, resource] of Object.entries(next.Resources)) {
    const before = deployed.Resources[logicalId];
    if (!before) continue;
    if (before.Type !== resource.Type) {
      throw new TemplateError(
        `${logicalId}: Update of resource type is not permitted (${before.Type} → ${resource.Type})`,
      );
    }
    const token = (template: typeof resource) => JSON.stringify(template.Properties?.ServiceToken);
    if (isCustomResourceType(resource.Type) && token(before) !== token(resource)) {
      throw new TemplateError(
        `${logicalId}: the ServiceToken of a custom resource cannot be updated`,
      );
    }
  }
}
