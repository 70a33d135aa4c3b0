export { certificateIdOf } from './certificate-id';
export { ClaimConnection, type ClaimConnectionOptions } from './claim-connection';
export {
  DEFAULT_CLAIM_ACCESS_DENIED_RETRIES,
  provisionByClaim,
  type ClaimChannel,
  type ClaimIdentityApi,
  type ClaimProvisioningEvent,
  type ClaimProvisioningResult,
  type ProvisionByClaimOptions,
} from './claim-provisioning';
export {
  claimedCredentialFiles,
  readClaimedCredentials,
  writeClaimedRegistration,
  type ClaimedCredentialFiles,
  type ClaimedRegistration,
} from './claimed-credential-store';
export type { ConnectionTarget, FailureDetails } from './connection-failure';
export {
  CredentialFollower,
  type CredentialCheckTrigger,
  type CredentialFollowerEvent,
  type CredentialFollowerOptions,
  type FollowedConnection,
  type FollowedWatcher,
} from './credential-follower';
export { CredentialPointerWatcher, type PointerCheck } from './credential-pointer-watcher';
export {
  DeviceConnection,
  type ConnectionCredentialFiles,
  type ConnectionState,
  type DeviceConnectionEvent,
  type DeviceConnectionEventMap,
  type DeviceConnectionOptions,
  type MessageHandler,
  type PublishOptions,
  type ReceivedMessage,
  type Subscription,
} from './device-connection';
export {
  CertificateKeyMismatchError,
  ClaimRejectedError,
  ClaimReplyLostError,
  ClaimTimeoutError,
  ConnectionClosedError,
  CredentialsError,
  CredentialsRefusedError,
  DeviceConnectionError,
  InsecureKeyFileError,
  isCertificateKeyMismatchError,
  isClaimRejectedError,
  isClaimReplyLostError,
  isClaimTimeoutError,
  isConnectionClosedError,
  isCredentialsError,
  isCredentialsRefusedError,
  isDeviceConnectionError,
  isDeviceUserError,
  isInsecureKeyFileError,
  isOfflineQueueFullError,
  isOperationDeniedError,
  OfflineQueueFullError,
  OperationDeniedError,
  type ClaimOperation,
  type ConnectionFailureReason,
  type CredentialsErrorReason,
} from './errors';
export {
  fetchCredentials,
  loadCredentialFiles,
  type CredentialFiles,
  type DeviceCredentials,
  type FetchCredentialsOptions,
} from './fetch-credentials';
export {
  fetchPointedCredentials,
  type FetchPointedCredentialsOptions,
  type PointedCredentials,
} from './fetch-pointed-credentials';
export type {
  AckResult,
  MqttProtocol,
  MqttTransport,
  QoS,
  TransportEvents,
  TransportFactory,
  TransportOptions,
} from './mqtt-transport';
export {
  pubsub,
  type PubsubConnection,
  type PubsubOptions,
  type PubsubReceived,
  type PubsubResult,
} from './pubsub';
