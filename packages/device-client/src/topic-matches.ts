/**
 * MQTT topic filter matching (`+` one level, `#` the rest), used to route each
 * incoming message to the handlers whose filter covers its topic.
 *
 * @example
 * ```ts
 * topicMatches('sensors/+/temp', 'sensors/a/temp'); // true
 * topicMatches('sensors/#', 'sensors');              // true (`#` includes the parent level)
 * ```
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') {
      // '#' does not match topics starting with '$' at the first level (MQTT 4.7.2).
      return !(i === 0 && topic.startsWith('$'));
    }
    const level = t[i];
    if (level === undefined) return false;
    if (part === '+') {
      if (i === 0 && level.startsWith('$')) return false;
      continue;
    }
    if (part !== level) return false;
  }
  return f.length === t.length;
}
