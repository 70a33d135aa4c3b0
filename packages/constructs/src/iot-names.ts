import { THING_NAME_PATTERN } from '@thingcert/contracts';
import { Token } from 'aws-cdk-lib';
import { InvalidConstructPropsError } from './errors';

/** AWS IoT rejects topics with more than 7 forward slashes (8 levels). */
const MAX_TOPIC_SLASHES = 7;
/** AWS IoT topic size limit in UTF-8 bytes. */
const MAX_TOPIC_BYTES = 256;

/**
 * Throws when `thingName` is not a concrete, valid AWS IoT thing name. Tokens
 * are refused too: the name is baked into the IoT policy, S3 keys and the
 * device configuration, so it must be known at synth time.
 */
export function assertValidThingName(thingName: string): void {
  if (Token.isUnresolved(thingName)) {
    throw new InvalidConstructPropsError('thingName must be a literal string, not a token');
  }
  if (!THING_NAME_PATTERN.test(thingName)) {
    throw new InvalidConstructPropsError(
      `Invalid thing name ${JSON.stringify(thingName)}: use 1-128 characters of a-z, A-Z, 0-9, ':', '_' and '-'`,
    );
  }
}

/**
 * Throws when `topic` cannot safely become a concrete MQTT topic and IoT policy
 * resource. Refused: MQTT wildcards (`+`, `#`, literal inside an IoT policy, so
 * they would not mean what they look like), IoT policy wildcards and variables
 * (`*`, `?`, `${`, which would widen the policy), reserved `$` topics, empty
 * levels at the ends, and anything over the AWS IoT size and depth limits.
 */
export function assertValidTopic(topic: string): void {
  if (Token.isUnresolved(topic)) {
    throw new InvalidConstructPropsError('topics must be literal strings, not tokens');
  }
  const show = JSON.stringify(topic);
  if (topic.length === 0) {
    throw new InvalidConstructPropsError('Topic names must not be empty');
  }
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) {
    throw new InvalidConstructPropsError(`Topic ${show} is longer than ${MAX_TOPIC_BYTES} bytes`);
  }
  if (/[+#]/.test(topic)) {
    throw new InvalidConstructPropsError(`Topic ${show} contains an MQTT wildcard (+ or #)`);
  }
  if (/[*?]|\$\{/.test(topic)) {
    throw new InvalidConstructPropsError(
      `Topic ${show} contains an IoT policy wildcard or variable (*, ? or \${)`,
    );
  }
  if (topic.startsWith('$')) {
    throw new InvalidConstructPropsError(`Topic ${show} is a reserved $ topic`);
  }
  if (topic.startsWith('/') || topic.endsWith('/')) {
    throw new InvalidConstructPropsError(`Topic ${show} must not start or end with '/'`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(topic)) {
    throw new InvalidConstructPropsError(`Topic ${show} contains a control character`);
  }
  if ((topic.match(/\//g) ?? []).length > MAX_TOPIC_SLASHES) {
    throw new InvalidConstructPropsError(
      `Topic ${show} has more than ${MAX_TOPIC_SLASHES} '/' (AWS IoT limit)`,
    );
  }
}

/**
 * Validates a list of topics: at least one, each valid, no duplicates.
 *
 * @returns the topics, in order
 */
export function assertValidTopics(topics: readonly string[]): string[] {
  if (topics.length === 0) {
    throw new InvalidConstructPropsError('topics must name at least one topic');
  }
  topics.forEach(assertValidTopic);
  const unique = new Set(topics);
  if (unique.size !== topics.length) {
    throw new InvalidConstructPropsError(`topics contains duplicates: ${topics.join(', ')}`);
  }
  return [...topics];
}
