import type { FleetOperation } from '../fleet/fleet-provisioning-api';

/** A publish to one of the device provisioning MQTT API's request topics. */
export interface FleetRequestTopic {
  operation: FleetOperation;
  /** RegisterThing's template name. */
  templateName?: string;
  /** `json` or `cbor`: the local cloud answers json only. */
  format: string;
  /** The topic the request was published to; replies go to `<topic>/accepted|rejected`. */
  topic: string;
}

const CREATE_KEYS = /^\$aws\/certificates\/create\/([^/]+)$/;
const CREATE_FROM_CSR = /^\$aws\/certificates\/create-from-csr\/([^/]+)$/;
const REGISTER_THING = /^\$aws\/provisioning-templates\/([^/]+)\/provision\/([^/]+)$/;
const REPLY =
  /^\$aws\/(certificates\/create|certificates\/create-from-csr|provisioning-templates\/[^/]+\/provision)\/[^/]+\/(accepted|rejected)$/;

/**
 * The request a topic names, if it is a request topic of the device provisioning MQTT API
 * (https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html):
 * `$aws/certificates/create/<format>`, `$aws/certificates/create-from-csr/<format>`,
 * `$aws/provisioning-templates/<templateName>/provision/<format>`.
 */
export function parseFleetRequestTopic(topic: string): FleetRequestTopic | undefined {
  let match = CREATE_KEYS.exec(topic);
  if (match?.[1] !== undefined) {
    return { operation: 'CreateKeysAndCertificate', format: match[1], topic };
  }
  match = CREATE_FROM_CSR.exec(topic);
  if (match?.[1] !== undefined) {
    return { operation: 'CreateCertificateFromCsr', format: match[1], topic };
  }
  match = REGISTER_THING.exec(topic);
  if (match?.[1] !== undefined && match[2] !== undefined) {
    return { operation: 'RegisterThing', templateName: match[1], format: match[2], topic };
  }
  return undefined;
}

/**
 * Whether a topic is one of the API's reply topics, which devices may subscribe to and receive
 * from but not publish to (AWS IoT's reserved topics).
 */
export function isFleetReplyTopic(topic: string): boolean {
  return REPLY.test(topic);
}

/**
 * Whether an MQTT topic filter matches a topic: `+` one level, `#` the rest (itself included);
 * a filter starting with a wildcard does not match a `$` topic (MQTT 3.1.1, 4.7.2).
 */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
