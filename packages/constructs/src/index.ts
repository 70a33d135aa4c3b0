export { deviceRunnerBundleDirectory, provisionerBundleDirectory } from './bundle-directories';
export { CertificateBucket, type CertificateBucketProps } from './certificate-bucket';
export {
  CertificateProvisioner,
  type CertificateProvisionerProps,
} from './certificate-provisioner';
export {
  DeviceCertificate,
  type DeviceCertificateProps,
  type KeyAlgorithm,
  type KeyMode,
} from './device-certificate';
export { DeviceFleet, MAX_DEVICES_PER_STACK, type DeviceFleetProps } from './device-fleet';
export { DeviceInstance, type DeviceInstanceProps } from './device-instance';
export {
  devicePolicyDocument,
  type IotPolicyDocument,
  type IotPolicyStatement,
} from './device-policy-document';
export {
  DEVICE_RUNNER_METADATA_KEY,
  type DeviceRunnerAssetLocation,
  type DeviceRunnerConfig,
  type DeviceRunnerMetadata,
  type DeviceRunnerProtocol,
} from './device-runner-config';
export {
  InvalidConstructPropsError,
  isInvalidConstructPropsError,
  isMissingBundleError,
  MissingBundleError,
} from './errors';
export { IotDevice, type IotDeviceProps } from './iot-device';
export {
  assertValidThingName,
  assertValidTopic,
  assertValidTopics,
  THING_NAME_PATTERN,
} from './iot-names';
