export type { ConnectionTarget, FailureDetails } from './connection-failure';
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
  type DeviceCredentials,
  type FetchCredentialsOptions,
} from './fetch-credentials';
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
