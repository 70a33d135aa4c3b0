export {
  customResourceHandler,
  type CustomResourceHandler,
  type CustomResourceHandlerOptions,
  type HandlerResult,
  type LambdaContextLike,
  type LambdaHandler,
} from './custom-resource-handler';
export {
  parseCustomResourceEvent,
  responseAddressOf,
  type CreateEvent,
  type CustomResourceEvent,
  type DeleteEvent,
  type RequestType,
  type ResourceProperties,
  type ResponseAddress,
  type UpdateEvent,
} from './events';
export {
  isMalformedEventError,
  isResponseDeliveryError,
  MalformedEventError,
  ResponseDeliveryError,
} from './errors';
export { jsonConsoleLogger, type LogFields, type StructuredLogger } from './logger';
export { redactPem } from './redact-pem';
export {
  CREATE_FAILED_MARKER,
  createFailedMarker,
  defaultPhysicalResourceId,
  isCreateFailedMarker,
  MAX_PHYSICAL_ID_BYTES,
  MAX_RESPONSE_BYTES,
  reasonFromError,
  requestIdOfCreateFailedMarker,
  type CustomResourceResponse,
} from './response';
export { putResponse, type RetryOptions } from './transport';
