import type { Client } from 'aedes';
import type { FleetCaller, FleetProvisioningApi } from '../fleet/fleet-provisioning-api';
import { topicMatchesFilter, type FleetRequestTopic } from './fleet-provisioning-topics';

type Log = (fields: Record<string, string | number | undefined>) => void;

/**
 * Answers one device provisioning MQTT API request on the connection that sent it, and only
 * there ("IoT Core Fleet Provisioning returns the device provisioning MQTT API results through
 * the same MQTT connection used to publish the API request"): the reply goes to
 * `<request topic>/accepted` or `/rejected` if this client subscribed to it (a device that did
 * not subscribe first gets nothing, as AWS warns), still subject to `iot:Receive`.
 * Only the `json` payload format is emulated; a `cbor` request is logged and not answered.
 */
export function answerFleetRequest(
  api: Pick<FleetProvisioningApi, 'handle'>,
  client: Client,
  request: FleetRequestTopic,
  payload: Buffer,
  caller: FleetCaller,
  log: Log,
): void {
  if (request.format !== 'json') {
    log({
      event: 'fleet-format-not-emulated',
      clientId: caller.clientId,
      topic: request.topic,
      reason: 'local-cloud answers the json payload format only',
    });
    return;
  }
  void api.handle(request.operation, request.templateName, payload, caller).then((reply) => {
    const topic = `${request.topic}/${reply.accepted ? 'accepted' : 'rejected'}`;
    deliver(client, topic, Buffer.from(JSON.stringify(reply.payload)), log);
  });
}

/** Sends `payload` on `topic` to this client alone, at the QoS it subscribed with (at most 1). */
function deliver(client: Client, topic: string, payload: Buffer, log: Log): void {
  if (client.closed) return;
  const subscriptions =
    (client as unknown as { subscriptions?: Record<string, { qos: number }> }).subscriptions ?? {};
  let qos: number | undefined;
  for (const [filter, subscription] of Object.entries(subscriptions)) {
    if (topicMatchesFilter(filter, topic)) qos = Math.max(qos ?? 0, subscription.qos);
  }
  if (qos === undefined) {
    log({ event: 'fleet-reply-unsubscribed', clientId: client.id, topic });
    return;
  }
  client.publish(
    { cmd: 'publish', topic, payload, qos: qos >= 1 ? 1 : 0, retain: false, dup: false },
    (error) => {
      if (error !== undefined) log({ event: 'fleet-reply-failed', clientId: client.id, topic });
    },
  );
}
