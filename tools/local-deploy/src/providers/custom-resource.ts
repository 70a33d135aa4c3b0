import {
  callCustomResource,
  type CustomResourceCallDependencies,
  type CustomResourceRequestType,
} from '../custom-resource-call';
import type {
  DeployedResource,
  ProvisionedResource,
  ResourceProvider,
  ResourceRequest,
} from '../resource-provider';

export { CUSTOM_RESOURCE_TYPE } from '../custom-resource-type';

/**
 * Lambda-backed custom resources: each step is a real CloudFormation event
 * sent to the function its `ServiceToken` names. An Update carries the
 * resource's current physical id and its recorded properties as
 * `OldResourceProperties`; answered with a new physical id it is a
 * replacement (the engine then deletes the old id in cleanup).
 */
export function customResourceProvider(deps: CustomResourceCallDependencies): ResourceProvider {
  const send = async (
    requestType: CustomResourceRequestType,
    { logicalId, type, properties }: ResourceRequest,
    previous?: DeployedResource,
  ): Promise<ProvisionedResource> => {
    const answer = await callCustomResource(
      { requestType, logicalId, resourceType: type, properties, previous },
      deps,
    );
    return { physicalId: answer.PhysicalResourceId, attributes: answer.Data ?? {} };
  };
  return {
    create: (request) => send('Create', request),
    update: (request, previous) => send('Update', request, previous),
    async delete(resource) {
      await send('Delete', resource, resource);
    },
  };
}
