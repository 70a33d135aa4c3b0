export { freePort } from './free-port';
export {
  startResponseRecorder,
  type RecordedRequest,
  type ResponseRecorder,
  type ResponseRecorderOptions,
} from './response-recorder';
export { findSecretLeaks } from './secrets';
export {
  localClients,
  provisionLocalDevice,
  seedPolicy,
  type LocalCloudEndpoints,
  type LocalDevice,
} from './local-device';
export {
  registerLocalDevice,
  type LocalDeviceKeyMode,
  type RegisterLocalDeviceOptions,
  type RegisteredLocalDevice,
} from './register-local-device';
export {
  provisionPointedDevice,
  rotatePointedDevice,
  type PointedDevice,
  type RotateOptions,
  type RotatedCertificate,
} from './pointed-device';
export { makeKeyPair, type TestKeyPair } from './test-key-pair';
export {
  readRecordedRequests,
  RECORDER_CODE,
  RECORDING_RESOURCE_TYPE,
  recordingFunction,
  recordingResource,
  type RecordedCustomResourceRequest,
  type RecordingResourceProperties,
} from './recording-custom-resource';
export {
  claimPolicy,
  provisionClaimFleet,
  type ClaimFleet,
  type ClaimFleetOptions,
} from './claim-fleet';
