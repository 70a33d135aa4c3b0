import { DeviceConnectionError, type ConnectionFailureReason } from './errors';

/** Where the client tried to connect, for messages. */
export interface ConnectionTarget {
  readonly endpoint: string;
  readonly port: number;
  readonly clientId: string;
  readonly protocol: 'mqtt5' | 'mqtt3';
}

/** What the transport knows about one failed attempt. */
export interface FailureDetails {
  /** aws-crt error name, e.g. `AWS_IO_DNS_INVALID_NAME`. */
  readonly nativeError?: string;
  /** MQTT 5 CONNACK / DISCONNECT reason code, or MQTT 3.1.1 CONNACK return code. */
  readonly reasonCode?: number;
  /** Free text from the native layer, when that is all there is. */
  readonly text?: string;
}

const HINTS: Record<ConnectionFailureReason, string> = {
  dns: 'the endpoint name does not resolve: check --endpoint (aws iot describe-endpoint --endpoint-type iot:Data-ATS) and the DNS settings of this host',
  refused:
    'nothing accepts connections there: check --endpoint and --port (AWS IoT uses 8883 for MQTT over TLS)',
  timeout:
    'no answer in time: check outbound access to the port (security group, NACL, proxy) and that the endpoint is right',
  tls: 'the TLS handshake failed: check --ca (Amazon Root CA 1 for AWS IoT, or omit it to use the system trust store), that the certificate is registered and ACTIVE, and the system clock',
  rejected:
    'the broker refused this client: check that the certificate is registered and ACTIVE (aws iot describe-certificate), attached to the thing, and that its policy allows iot:Connect for the client id',
  credentials:
    'the certificate or private key could not be loaded: check the --cert and --key files (PEM, readable by this user)',
  protocol:
    'the broker does not speak this MQTT version: try --protocol mqtt3 (or mqtt5), and check --port',
  unknown: 'check the endpoint, port, certificate state and policy',
};

const SUMMARIES: Record<ConnectionFailureReason, string> = {
  dns: 'DNS lookup failed',
  refused: 'connection refused',
  timeout: 'timed out',
  tls: 'TLS handshake failed',
  rejected: 'the broker rejected the connection',
  credentials: 'cannot load the certificate or key',
  protocol: 'protocol mismatch',
  unknown: 'connection failed',
};

/** Maps an aws-crt error name (and CONNACK codes) to a reason we can explain. */
export function failureReason(details: FailureDetails): ConnectionFailureReason {
  const name = details.nativeError ?? '';
  if (name.startsWith('AWS_IO_DNS')) return 'dns';
  if (name === 'AWS_IO_SOCKET_CONNECTION_REFUSED') return 'refused';
  if (
    name === 'AWS_IO_SOCKET_TIMEOUT' ||
    name === 'AWS_IO_TLS_NEGOTIATION_TIMEOUT' ||
    name === 'AWS_ERROR_MQTT_TIMEOUT' ||
    name === 'AWS_ERROR_MQTT5_CONNACK_TIMEOUT' ||
    name === 'AWS_IO_SOCKET_NO_ROUTE_TO_HOST' ||
    name === 'AWS_IO_SOCKET_NETWORK_DOWN'
  ) {
    return 'timeout';
  }
  if (name === 'AWS_IO_FILE_VALIDATION_FAILURE' || name.startsWith('AWS_ERROR_FILE')) {
    return 'credentials';
  }
  if (name.startsWith('AWS_IO_TLS')) return 'tls';
  if (
    name === 'AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED' ||
    name === 'AWS_ERROR_MQTT_UNEXPECTED_HANGUP' ||
    name === 'AWS_IO_SOCKET_CLOSED' ||
    name === 'AWS_ERROR_MQTT5_DISCONNECT_RECEIVED' ||
    (details.reasonCode !== undefined && details.reasonCode !== 0) ||
    /rejected/i.test(details.text ?? '')
  ) {
    return 'rejected';
  }
  if (
    name === 'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR' ||
    name === 'AWS_ERROR_MQTT_PROTOCOL_ERROR' ||
    name.startsWith('AWS_ERROR_MQTT_UNSUPPORTED_PROTOCOL')
  ) {
    return 'protocol';
  }
  return 'unknown';
}

/**
 * What one failed MQTT 3.1.1 *connect* says, from either place aws-crt reports
 * it: the `connection_failure` event (a CrtError with `error_name`) or the
 * rejected `connect()` promise, which may carry only a string such as
 * "Failed to connect: libaws-c-mqtt: AWS_ERROR_MQTT_PROTOCOL_ERROR, ...".
 * Which of the two arrives first varies with load, so both must classify the
 * same way: the native name is read out of the text too.
 *
 * aws-c-mqtt reports a CONNACK with a non-zero return code (not authorized,
 * bad credentials) as a protocol error; during CONNECT that means the broker
 * refused us, so it is reported as a rejection.
 */
export function mqtt3ConnectFailure(error: unknown): FailureDetails {
  const details = crtFailureDetails(error);
  return details.nativeError === 'AWS_ERROR_MQTT_PROTOCOL_ERROR'
    ? { ...details, text: 'connection rejected by the broker' }
    : details;
}

function crtFailureDetails(error: unknown): FailureDetails {
  const name = (error as { error_name?: unknown } | null | undefined)?.error_name;
  if (typeof name === 'string' && name !== '') return { nativeError: name };
  const text =
    typeof error === 'string' ? error : error instanceof Error ? error.message : String(error);
  const named = /\b(AWS_[A-Z0-9_]+)\b/.exec(text)?.[1];
  return named === undefined ? { text } : { nativeError: named };
}

/**
 * Failures that will not go away by trying again: the initial connect gives up
 * on them at once instead of retrying until the timeout.
 */
export function isPermanentFailure(reason: ConnectionFailureReason): boolean {
  switch (reason) {
    case 'tls':
    case 'rejected':
    case 'credentials':
    case 'protocol':
    case 'dns':
    case 'refused':
      return true;
    case 'timeout':
    case 'unknown':
      return false;
  }
}

/**
 * Builds the error an operator sees: where we tried, what happened, what to
 * check, and the native error name in parentheses (never alone).
 *
 * @example
 * ```ts
 * connectionError({ nativeError: 'AWS_IO_DNS_INVALID_NAME' }, target).message;
 * // "Cannot connect to typo.example:8883 as 'thing-1' (MQTT 5): DNS lookup failed; check: ... [AWS_IO_DNS_INVALID_NAME]"
 * ```
 */
export function connectionError(
  details: FailureDetails,
  target: ConnectionTarget,
  options?: ErrorOptions,
): DeviceConnectionError {
  const reason = failureReason(details);
  const hint = HINTS[reason];
  return new DeviceConnectionError(
    `Cannot connect to ${describeTarget(target)}: ` +
      `${SUMMARIES[reason]}; check: ${hint}${nativeCodes(details)}`,
    {
      reason,
      hint,
      ...(details.nativeError === undefined ? {} : { nativeError: details.nativeError }),
    },
    options,
  );
}

/**
 * What a lost connection means when the broker ended it: not a refused
 * CONNECT (the certificate worked a moment ago) but one of the reasons AWS IoT
 * closes a live connection.
 */
const BROKER_CLOSED_HINT =
  'AWS IoT closes a live connection when another client connects with the same client id, when the policy denies a publish or subscribe (MQTT 3.1.1), or when the certificate is deactivated';

/**
 * Builds the error for a connection that was up and went down (the client
 * reconnects by itself). A broker hang-up here is not a refused connect, so
 * it is not described as one: "Cannot connect ... check that the certificate
 * is ACTIVE" after a broker restart would send an operator the wrong way.
 *
 * @example
 * ```ts
 * connectionLostError({ nativeError: 'AWS_ERROR_MQTT_UNEXPECTED_HANGUP' }, target).message;
 * // "Lost the connection to abc-ats.iot...:8883 as 'thing-1' (MQTT 3.1.1): the broker closed it; reconnecting. If it keeps happening, check: ... [AWS_ERROR_MQTT_UNEXPECTED_HANGUP]"
 * ```
 */
export function connectionLostError(
  details: FailureDetails,
  target: ConnectionTarget,
): DeviceConnectionError {
  const reason = failureReason(details);
  const brokerClosed = reason === 'rejected';
  const hint = brokerClosed ? BROKER_CLOSED_HINT : HINTS[reason];
  const summary = brokerClosed ? 'the broker closed it' : SUMMARIES[reason];
  return new DeviceConnectionError(
    `Lost the connection to ${describeTarget(target)}: ` +
      `${summary}; reconnecting. If it keeps happening, check: ${hint}${nativeCodes(details)}`,
    {
      reason,
      hint,
      ...(details.nativeError === undefined ? {} : { nativeError: details.nativeError }),
    },
  );
}

/** `host:port as 'client-id' (MQTT 5)`: where a connection was tried. */
function describeTarget(target: ConnectionTarget): string {
  const protocol = target.protocol === 'mqtt5' ? 'MQTT 5' : 'MQTT 3.1.1';
  return `${target.endpoint}:${target.port} as '${target.clientId}' (${protocol})`;
}

/** The native name, reason code or text in brackets (` [..]`), or nothing. */
function nativeCodes(details: FailureDetails): string {
  const codes = [
    details.nativeError,
    details.reasonCode !== undefined && details.reasonCode !== 0
      ? `reason code ${details.reasonCode}`
      : undefined,
    details.nativeError === undefined ? details.text : undefined,
  ].filter((part): part is string => part !== undefined && part !== '');
  return codes.length > 0 ? ` [${codes.join(', ')}]` : '';
}

/** The error for a connect that did not finish within `timeoutMs`. */
export function connectTimeoutError(
  target: ConnectionTarget,
  timeoutMs: number,
  last: DeviceConnectionError | undefined,
): DeviceConnectionError {
  const hint = last?.hint ?? HINTS.timeout;
  return new DeviceConnectionError(
    `Cannot connect to ${target.endpoint}:${target.port} as '${target.clientId}': not connected after ${timeoutMs} ms` +
      (last === undefined ? '' : ` (last attempt: ${last.message})`) +
      `; check: ${hint}`,
    {
      reason: last?.reason ?? 'timeout',
      hint,
      ...(last?.nativeError ? { nativeError: last.nativeError } : {}),
    },
    last === undefined ? undefined : { cause: last },
  );
}
