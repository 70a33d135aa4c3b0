// Defined in the shared contract; still exported here, where they always were.
export type { KeyAlgorithm, KeyMode } from '@thingcert/contracts';
export { createAwsClients, type AwsClients, type AwsClientsOptions } from './aws-clients';
export {
  parseCertificateProperties,
  replacementReasons,
  type CertificateProperties,
} from './certificate-properties';
export {
  createCertificateResourceHandler,
  resourceDataOf,
  type CertificateResourceData,
  type CertificateResourceHandlerOptions,
} from './certificate-resource-handler';
export { type CertificateRecord, type RecordOrigin } from './certificate-record';
export { certificateIdOfPem } from './credential-store';
export { type PointerMove } from './credential-pointer-moves';
export {
  deregisterFleetThing,
  type FleetDeregistrationDeps,
  type FleetDeregistrationResult,
} from './deregister-fleet-thing';
export { emptyFleetGroup, type EmptyFleetGroupResult } from './empty-fleet-group';
export {
  createFleetAwsClients,
  type FleetAwsClients,
  type FleetAwsClientsOptions,
} from './fleet-aws-clients';
export {
  createFleetDeregistrationHandler,
  type FleetDeregistrationHandler,
  type FleetDeregistrationHandlerDeps,
  type FleetDeregistrationHandlerOptions,
} from './fleet-deregistration-handler';
export { fleetSettingsFromEnvironment, type FleetSettings } from './fleet-settings';
export {
  deregisterTerminatingInstance,
  isTerminationEvent,
  parseTerminationEvent,
  type InstanceTerminationDeps,
  type TerminationLifecycleAction,
} from './instance-termination';
export {
  decideProvisioning,
  describeRefusal,
  type PreProvisioningHookDeps,
  type PreProvisioningHookEvent,
  type PreProvisioningHookResponse,
  type ProvisioningRefusal,
} from './pre-provisioning-hook';
export {
  createPreProvisioningHookHandler,
  type PreProvisioningHookHandler,
} from './pre-provisioning-hook-handler';
export { thingGroupMembers } from './thing-group-members';
export { deprovision, type DeprovisionInput, type DeprovisionResult } from './deprovision';
export { describeProvisioned, type DescribeProvisionedInput } from './describe-provisioned';
export {
  DeadlineError,
  DeprovisioningError,
  DuplicateRequestError,
  FleetConfigurationError,
  FleetDeregistrationError,
  InvalidPropertyError,
  isDeadlineError,
  isDeprovisioningError,
  isDuplicateRequestError,
  isFleetConfigurationError,
  isFleetDeregistrationError,
  isInvalidPropertyError,
  isObjectConflictError,
  isProvisioningError,
  isResourceDriftError,
  isResourceEndedError,
  isUnrecognizedFleetEventError,
  ObjectConflictError,
  ProvisioningError,
  ResourceDriftError,
  ResourceEndedError,
  UnrecognizedFleetEventError,
  type CompensationOutcome,
  type DeprovisionStep,
  type FleetDeregistrationStep,
  type ProvisionStep,
} from './errors';
// Moved to @thingcert/csr (device code makes its CSRs too); still exported here.
export { generateKeyAndCsr, type KeyAndCsr } from '@thingcert/csr';
export {
  certificateObjectsOf,
  requestMarkerFolder,
  thingFolder,
  type CertificateLocation,
  type CertificateObjects,
  type FileNames,
} from './layout';
export { provision, type ProvisionInput, type ProvisionResult } from './provision';
export { realSleep, type ProvisionerDeps, type Sleep } from './provisioner-deps';
export { requestMarkerKey, type RequestMarker } from './request-claim';
export { RetryDeadline, RetryUntilDeadline } from './retry-until-deadline';
export { rotate, type RotateInput, type RotateResult } from './rotate';
