import type { IncomingHttpHeaders } from 'node:http';
import type { IotRegistry } from '../iot-registry';
import type { IotOperation } from './routes';

/** One decoded control-plane request, as a handler sees it. */
export interface IotCall {
  /** Path segments the route captured (percent-decoded), e.g. the thing name. */
  params: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The JSON body (`{}` when there is none). */
  body: Record<string, unknown>;
}

/**
 * Answers one operation: the returned value is sent as the JSON body
 * (`undefined`: an empty body); an `IotServiceError` becomes an AWS error answer.
 */
export type IotHandler = (call: IotCall) => unknown;

/** Handlers for some operations; the control plane joins the groups into one for every operation. */
export type IotHandlers<K extends IotOperation = IotOperation> = Record<K, IotHandler>;

/** What every handler group that reads or writes the registry needs. */
export interface RegistryHandlerDeps {
  registry: IotRegistry;
  /** `arn:aws:iot:{region}:{account}`, the start of every ARN the handlers make. */
  arnPrefix: string;
}
