export { startLocalCloud, type LocalCloud, type LocalCloudOptions } from './local-cloud';
export {
  FaultInjector,
  type FaultRequest,
  type FaultRule,
  type InjectedError,
  type InjectedFault,
} from './fault-injection';
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
  LocalIamError,
  MalformedPolicyError,
  isLocalCloudError,
  isLocalIamError,
  isMalformedPolicyError,
} from './errors';
export { connectLocalIam } from './iam/admin-client';
export type { AdminEndpoint } from './iam/admin-server';
export type { AdminCredentials } from './iam/identity-registry';
export type * from './iam/local-iam';
export type { PolicyDocument } from './iam/policy-documents';
export { IOT_OPERATIONS } from './iot/routes';
export type { LocalFleetProvisioning } from './fleet/fleet-provisioning';
export {
  PRE_PROVISIONING_HOOK_TIMEOUT_MS,
  type LambdaInvoker,
  type PreProvisioningHookDecision,
  type PreProvisioningHookInput,
} from './fleet/pre-provisioning-hook';
export { FLEET_PROVISIONING_RATES, type FleetOperation } from './fleet/fleet-provisioning-api';
export { OWNERSHIP_TOKEN_LIFETIME_MS } from './fleet/ownership-tokens';
export { MAX_PUBLISH_PAYLOAD_BYTES } from './mqtt-broker';
