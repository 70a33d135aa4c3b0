export {
  credentialObjectKeys,
  DEFAULT_CREDENTIAL_FILE_NAMES,
  thingFolder,
  type CredentialFileNames,
  type CredentialLocation,
  type CredentialObjectKeys,
} from './credential-object-keys';
export {
  certificateFolder,
  certificateObjectKeys,
  certificatesFolder,
  CREDENTIAL_POINTER_FILE_NAME,
  credentialPointerKey,
  InvalidCredentialPointerError,
  parseCredentialPointer,
  serializeCredentialPointer,
  type CredentialPointer,
} from './credential-pointer';
export {
  CREDENTIAL_SWITCH_WINDOW_PROPERTY,
  CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
  credentialSwitchWindowSeconds,
  DEFAULT_CREDENTIAL_CHECK_INTERVAL_MS,
  MAX_CREDENTIAL_CHECK_INTERVAL_MS,
  MAX_CREDENTIAL_SWITCH_WINDOW_SECONDS,
  type CredentialSwitchWindowProperties,
} from './credential-switch-window';
export {
  CREDENTIAL_LAYOUT,
  DEVICE_CERTIFICATE_ATTRIBUTE,
  DEVICE_CERTIFICATE_PROPERTY,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
  type DeviceCertificateData,
  type DeviceCertificateProperties,
} from './device-certificate-resource';
export {
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  DEVICE_RUNNER_METADATA_KEY,
  DEVICE_RUNNER_PROTOCOLS,
  type DeviceRunnerAssetLocation,
  type DeviceRunnerConfig,
  type DeviceRunnerConfigFile,
  type DeviceRunnerMetadata,
  type DeviceRunnerProtocol,
} from './device-runner-config';
export {
  FLEET_CLEANUP_PROPERTY,
  FLEET_CLEANUP_RESOURCE_TYPE,
  FLEET_DEVICE_ID_ENVIRONMENT_VARIABLE,
  FLEET_DEVICE_ID_MAX_LENGTH,
  FLEET_DEVICE_RUNNER_METADATA_KEY,
  FLEET_FUNCTION_ENVIRONMENT,
  FLEET_TERMINATION_EVENT_DETAIL_TYPE,
  FLEET_THING_NAME_PARAMETER,
  fleetTemplateBody,
  fleetThingName,
  InvalidFleetThingNameError,
  isFleetThingName,
  type FleetClaimConfig,
  type FleetCleanupProperties,
  type FleetDeviceRunnerConfig,
  type FleetDeviceRunnerMetadata,
  type FleetTemplateNames,
} from './fleet-provisioning';
export {
  defaultKeyAlgorithm,
  isKeyAlgorithm,
  isKeyMode,
  KEY_ALGORITHMS,
  KEY_MODES,
  type KeyAlgorithm,
  type KeyMode,
} from './key-mode';
export { THING_NAME_PATTERN } from './thing-name';
