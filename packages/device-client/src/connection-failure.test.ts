import { describe, expect, it } from 'vitest';
import {
  connectionError,
  connectionLostError,
  failureReason,
  isPermanentFailure,
  mqtt3ConnectFailure,
  type ConnectionTarget,
} from './connection-failure';

const target: ConnectionTarget = {
  endpoint: 'typo-ats.iot.eu-west-1.amazonaws.com',
  port: 8883,
  clientId: 'thing-1',
  protocol: 'mqtt5',
};

describe('Function: failureReason', () => {
  it.each([
    ['AWS_IO_DNS_INVALID_NAME', 'dns'],
    ['AWS_IO_DNS_QUERY_FAILED', 'dns'],
    ['AWS_IO_SOCKET_CONNECTION_REFUSED', 'refused'],
    ['AWS_IO_SOCKET_TIMEOUT', 'timeout'],
    ['AWS_ERROR_MQTT5_CONNACK_TIMEOUT', 'timeout'],
    ['AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', 'tls'],
    ['AWS_IO_TLS_ERROR_ALERT_RECEIVED', 'tls'],
    ['AWS_IO_FILE_VALIDATION_FAILURE', 'credentials'],
    ['AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED', 'rejected'],
    ['AWS_ERROR_MQTT_UNEXPECTED_HANGUP', 'rejected'],
    ['AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR', 'protocol'],
    ['SOMETHING_NEW', 'unknown'],
  ])('%s is %s', (nativeError, reason) => {
    expect(failureReason({ nativeError })).toBe(reason);
  });

  it('reads a refusing CONNACK reason code or rejection text as rejected', () => {
    expect(failureReason({ reasonCode: 135 })).toBe('rejected');
    expect(
      failureReason({
        nativeError: 'AWS_ERROR_MQTT_PROTOCOL_ERROR',
        text: 'connection rejected by the broker',
      }),
    ).toBe('rejected');
  });

  it('retries the first connect only on failures that may pass', () => {
    expect(isPermanentFailure('timeout')).toBe(false);
    expect(isPermanentFailure('unknown')).toBe(false);
    expect(isPermanentFailure('rejected')).toBe(true);
    expect(isPermanentFailure('tls')).toBe(true);
  });
});

describe('Function: mqtt3ConnectFailure', () => {
  // A refused CONNECT reaches us either as the failure event (a CrtError) or
  // as the rejected connect() promise (a string); which comes first varies
  // with load, and both must end the first connect at once.
  it.each([
    ['the failure event', { error_name: 'AWS_ERROR_MQTT_PROTOCOL_ERROR', error_code: 5129 }],
    [
      'the rejected promise',
      'Failed to connect: libaws-c-mqtt: AWS_ERROR_MQTT_PROTOCOL_ERROR, Protocol error occurred.',
    ],
  ])('reads a refused CONNECT from %s as a permanent rejection', (_from, error) => {
    const details = mqtt3ConnectFailure(error);
    expect(details.nativeError).toBe('AWS_ERROR_MQTT_PROTOCOL_ERROR');
    expect(failureReason(details)).toBe('rejected');
    expect(isPermanentFailure(failureReason(details))).toBe(true);
  });

  it('keeps other native names found in the text, and plain text otherwise', () => {
    expect(
      mqtt3ConnectFailure(
        'Failed to connect: libaws-c-io: AWS_IO_SOCKET_TIMEOUT, socket timed out',
      ),
    ).toEqual({ nativeError: 'AWS_IO_SOCKET_TIMEOUT' });
    expect(mqtt3ConnectFailure(new Error('Server rejected connection.'))).toEqual({
      text: 'Server rejected connection.',
    });
    expect(failureReason(mqtt3ConnectFailure('Server rejected connection.'))).toBe('rejected');
  });
});

describe('Function: connectionError', () => {
  it('says where, what happened and what to check, with the native name in brackets', () => {
    const error = connectionError({ nativeError: 'AWS_IO_DNS_INVALID_NAME' }, target);
    expect(error.name).toBe('DeviceConnectionError');
    expect(error.message).toBe(
      "Cannot connect to typo-ats.iot.eu-west-1.amazonaws.com:8883 as 'thing-1' (MQTT 5): DNS lookup failed; " +
        `check: ${error.hint} [AWS_IO_DNS_INVALID_NAME]`,
    );
    expect(error.hint).toContain('describe-endpoint');
  });

  it('names certificate state and policy for a refused connection', () => {
    const error = connectionError({ reasonCode: 135 }, { ...target, protocol: 'mqtt3' });
    expect(error.reason).toBe('rejected');
    expect(error.message).toContain('registered and ACTIVE');
    expect(error.message).toContain('iot:Connect');
    expect(error.message).toContain('MQTT 3.1.1');
    expect(error.message).toContain('reason code 135');
  });
});

describe('Function: connectionLostError', () => {
  it('reports a broker hang-up on a live connection as lost, not as a refused connect', () => {
    const error = connectionLostError(
      { nativeError: 'AWS_ERROR_MQTT_UNEXPECTED_HANGUP' },
      { ...target, protocol: 'mqtt3' },
    );
    expect(error.name).toBe('DeviceConnectionError');
    expect(error.reason).toBe('rejected');
    expect(error.message).toBe(
      "Lost the connection to typo-ats.iot.eu-west-1.amazonaws.com:8883 as 'thing-1' (MQTT 3.1.1): " +
        `the broker closed it; reconnecting. If it keeps happening, check: ${error.hint} ` +
        '[AWS_ERROR_MQTT_UNEXPECTED_HANGUP]',
    );
    expect(error.hint).toContain('same client id');
    expect(error.message).not.toContain('Cannot connect');
  });

  it('keeps the network hint when the connection timed out', () => {
    const error = connectionLostError({ nativeError: 'AWS_IO_SOCKET_TIMEOUT' }, target);
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('): timed out; reconnecting.');
    expect(error.hint).toContain('security group');
  });
});
