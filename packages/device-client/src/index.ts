export { backoffDelay, type BackoffOptions } from './backoff';
export {
  connectionError,
  connectionLostError,
  failureReason,
  isPermanentFailure,
  type ConnectionTarget,
  type FailureDetails,
} from './connection-failure';
export { createTransport } from './create-transport';
export {
  DeviceConnection,
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
  ConnectionClosedError,
  CredentialsError,
  DeviceConnectionError,
  InsecureKeyFileError,
  isCertificateKeyMismatchError,
  isConnectionClosedError,
  isCredentialsError,
  isDeviceConnectionError,
  isDeviceUserError,
  isInsecureKeyFileError,
  isOfflineQueueFullError,
  isOperationDeniedError,
  OfflineQueueFullError,
  OperationDeniedError,
  type ConnectionFailureReason,
  type CredentialsErrorReason,
} from './errors';
export {
  fetchCredentials,
  loadCredentialFiles,
  type CredentialFiles,
  type CredentialObjectNames,
  type DeviceCredentials,
  type FetchCredentialsOptions,
} from './fetch-credentials';
export { assertKeyFilePrivate, ensurePrivateDirectory } from './key-file-permissions';
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
export { topicMatches } from './topic-matches';
export { verifyKeyPair } from './verify-key-pair';
export { writeFileAtomic, type WriteFileAtomicOptions } from './write-file-atomic';
