// What a fleet provisioning by claim asked of the local cloud, per device, read
// from the cloud's own JSON log lines (not from what the devices say they did):
// pure functions, unit-tested in claim-requests.test.ts.

/** The device provisioning MQTT API operations a claim device publishes to. */
const CLAIM_OPERATIONS = new Set(['CreateCertificateFromCsr', 'RegisterThing']);

/**
 * Requests per device of a fleet whose client ids (= thing names) start with
 * `prefix`: publishes to the provisioning topics (every attempt, throttled or
 * not) and CONNECTs (accepted or refused), from the local cloud's log lines
 * (`{"service":"fleet-provisioning","operation",clientId,status}` and
 * `{"service":"mqtt","event":"connected"|"connect-refused",clientId}`).
 * A device that made no request at all is not in the log: `devices` is the
 * fleet's size, so its requests count as 0.
 * @param {string[]} lines JSON log lines; others are ignored
 * @param {string} prefix
 * @param {number} devices
 * @returns {{ publishes: number[], throttled: number[], connects: number[], byOperation: Record<string, { calls: number, throttled: number, accepted: number }> }}
 *   per-device counts (one entry per device, sorted ascending) and totals by operation
 */
export function countClaimRequests(lines, prefix, devices) {
  /** @type {Map<string, { publishes: number, throttled: number, connects: number }>} */
  const perDevice = new Map();
  const of = (clientId) => {
    let counts = perDevice.get(clientId);
    if (counts === undefined) {
      counts = { publishes: 0, throttled: 0, connects: 0 };
      perDevice.set(clientId, counts);
    }
    return counts;
  };
  const byOperation = {};
  for (const text of lines) {
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof line?.clientId !== 'string' || !line.clientId.startsWith(prefix)) continue;
    if (line.service === 'fleet-provisioning' && CLAIM_OPERATIONS.has(line.operation)) {
      const counts = of(line.clientId);
      counts.publishes += 1;
      const op = (byOperation[line.operation] ??= { calls: 0, throttled: 0, accepted: 0 });
      op.calls += 1;
      if (line.status === 429) {
        counts.throttled += 1;
        op.throttled += 1;
      }
      if (line.status === 200) op.accepted += 1;
    } else if (
      line.service === 'mqtt' &&
      (line.event === 'connected' || line.event === 'connect-refused')
    ) {
      of(line.clientId).connects += 1;
    }
  }
  const column = (key) => {
    const values = [...perDevice.values()].map((c) => c[key]);
    while (values.length < devices) values.push(0);
    return values.sort((a, b) => a - b);
  };
  return {
    publishes: column('publishes'),
    throttled: column('throttled'),
    connects: column('connects'),
    byOperation,
  };
}

/**
 * The least time N registrations can take at `ratePerSecond` RegisterThing
 * calls a second: N / rate, in ms (the goal's floor; the token bucket's burst
 * lets a fleet no larger than the burst beat it).
 * @param {number} devices
 * @param {number} ratePerSecond
 * @returns {number}
 */
export function registrationFloorMs(devices, ratePerSecond) {
  if (!(ratePerSecond > 0)) throw new RangeError('the rate must be positive');
  return (devices / ratePerSecond) * 1000;
}

/**
 * Splits `devices` into at most `workers` consecutive ranges of nearly equal
 * size (the first ones one larger), for worker processes.
 * @param {number} devices
 * @param {number} workers
 * @returns {Array<{ first: number, count: number }>}
 */
export function splitFleet(devices, workers) {
  const parts = Math.max(1, Math.min(workers, devices));
  const base = Math.floor(devices / parts);
  const extra = devices % parts;
  const ranges = [];
  let first = 0;
  for (let i = 0; i < parts && first < devices; i++) {
    const count = base + (i < extra ? 1 : 0);
    ranges.push({ first, count });
    first += count;
  }
  return ranges;
}
