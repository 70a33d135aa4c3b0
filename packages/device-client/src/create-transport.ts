import type { MqttTransport, TransportEvents, TransportOptions } from './mqtt-transport';
import { createMqtt3Transport } from './mqtt3-transport';
import { createMqtt5Transport } from './mqtt5-transport';

/**
 * The real transport factory (composition root of the native side): aws-crt's
 * MQTT 5 client by default, its MQTT 3.1.1 connection on request.
 */
export function createTransport(options: TransportOptions, events: TransportEvents): MqttTransport {
  switch (options.protocol) {
    case 'mqtt5':
      return createMqtt5Transport(options, events);
    case 'mqtt3':
      return createMqtt3Transport(options, events);
  }
}
