// Defined in the shared contract; still exported here, where they always were.
export {
  DEFAULT_DEVICE_RUNNER_PROTOCOL,
  DEVICE_RUNNER_METADATA_KEY,
  THING_NAME_PATTERN,
  MAX_CREDENTIAL_CHECK_INTERVAL_MS,
  type DeviceRunnerAssetLocation,
  type DeviceRunnerConfig,
  type DeviceRunnerMetadata,
  type DeviceRunnerProtocol,
  type KeyAlgorithm,
  type KeyMode,
} from '@thingcert/contracts';
export { deviceRunnerBundleDirectory, provisionerBundleDirectory } from './bundle-directories';
export { CertificateBucket, type CertificateBucketProps } from './certificate-bucket';
export {
  CertificateProvisioner,
  type CertificateProvisionerProps,
} from './certificate-provisioner';
export { DeviceCertificate, type DeviceCertificateProps } from './device-certificate';
export { DeviceFleet, MAX_DEVICES_PER_STACK, type DeviceFleetProps } from './device-fleet';
export { UNPINNED_DEVICE_IMAGE_WARNING } from './device-image';
export { DeviceInstance, type DeviceInstanceProps } from './device-instance';
export {
  devicePolicyDocument,
  type IotPolicyDocument,
  type IotPolicyStatement,
} from './device-policy-document';
export {
  InvalidConstructPropsError,
  isInvalidConstructPropsError,
  isMissingBundleError,
  MissingBundleError,
} from './errors';
export { IotDevice, type IotDeviceProps } from './iot-device';
export { assertValidThingName, assertValidTopic, assertValidTopics } from './iot-names';
export { LAUNCH_TEMPLATE_NAME_FLAG_ERROR } from './launch-template-name-flag';
export { fleetFunctionsBundleDirectory } from './bundle-directories';
export { FleetFunction, type FleetFunctionProps } from './fleet-function';
export { claimPolicyDocument, provisioningRoleStatements } from './fleet-provisioning-documents';
// The template body is a contract (tests register through the same one); kept here too, as
// before, for the constructs' public API.
export { fleetTemplateBody, type FleetTemplateNames } from '@thingcert/contracts';
export { ProvisionedFleet, type ProvisionedFleetProps } from './provisioned-fleet';
export { MAX_FLEET_DEVICES } from './provisioned-fleet-props';
