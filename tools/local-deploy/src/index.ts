export {
  readCloudAssembly,
  type StackArtifact,
  type Template,
  type TemplateResource,
} from './cloud-assembly';
export { deployOrder, dependenciesOf } from './dependency-order';
export { DeviceProcess, type DeviceResult } from './device-process';
export {
  isResourceStepError,
  LeftoverResourcesError,
  ResourceStepError,
  TemplateError,
} from './errors';
export { referencedResources, resolveValue, type ResolveContext } from './intrinsics';
export { LocalStack, type DeployedResource, type LocalStackOptions } from './local-stack';
export { ResponseEndpoint, type CustomResourceAnswer } from './response-endpoint';
export { runLocal, type RunLocalOptions } from './run-local';
export { INFRA_APP_ENTRY, synthesize } from './synthesize';
