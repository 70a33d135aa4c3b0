export {
  readCloudAssembly,
  type StackArtifact,
  type Template,
  type TemplateResource,
} from './cloud-assembly';
export { deployOrder, dependenciesOf } from './dependency-order';
export { DeviceProcess, type DeviceResult } from './device-process';
export type { DuplicateDelivery } from './custom-resource-call';
export {
  isResourceStepError,
  LeftoverResourcesError,
  ResourceStepError,
  StackStateError,
  TemplateError,
  type ResourceStepErrorOptions,
} from './errors';
export { referencedResources, resolveValue, type ResolveContext } from './intrinsics';
export {
  invokeFunction,
  retireFunctionEnvironments,
  type InvocationOptions,
  type InvocationOutcome,
  type LocalFunction,
} from './lambda-invoker';
export { LocalStack, type LocalStackOptions } from './local-stack';
export type { DeployedResource } from './resource-provider';
export {
  STACK_RESOURCE_TYPE,
  type ResourceStatus,
  type StackEvent,
  type StackStatus,
} from './stack-events';
export { ResponseEndpoint, type CustomResourceAnswer } from './response-endpoint';
export {
  readPrintedRotations,
  ROTATION_LOG_SOURCE,
  type PrintedDeviceRotation,
  type PrintedRotation,
} from './rotation-stats';
export { runLocal, type RunLocalOptions } from './run-local';
export { INFRA_APP_ENTRY, synthesize } from './synthesize';
