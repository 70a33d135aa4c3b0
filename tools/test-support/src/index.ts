export { freePort } from './free-port';
export {
  startResponseRecorder,
  type RecordedRequest,
  type ResponseRecorder,
  type ResponseRecorderOptions,
} from './response-recorder';
export { findSecretLeaks } from './secrets';
