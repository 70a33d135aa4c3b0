export { startLocalCloud, type LocalCloud, type LocalCloudOptions } from './local-cloud';
export { startMosquitto, type MosquittoInstance, type MosquittoOptions } from './mosquitto';
export {
  evaluatePolicies,
  iotResourceArn,
  validatePolicyDocument,
  type AuthorizationRequest,
  type AuthorizationResult,
  type IotAction,
} from './policy-evaluator';
export {
  LocalCloudError,
  MalformedPolicyError,
  isLocalCloudError,
  isMalformedPolicyError,
} from './errors';
export { IOT_OPERATIONS } from './iot/routes';
export { MAX_PUBLISH_PAYLOAD_BYTES } from './mqtt-broker';
