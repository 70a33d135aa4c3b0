/** What the default termination policy looks at in an instance of a group. */
export interface TerminationCandidate {
  readonly instanceId: string;
  readonly availabilityZone: string;
  /**
   * Which of the group's launch template settings it was launched with:
   * 0 for the first, counting up with each change (higher = newer).
   */
  readonly launchTemplateGeneration: number;
  /** Launch time, epoch milliseconds. */
  readonly launchedAt: number;
}

const HOUR_MS = 3_600_000;

/**
 * The instances the default termination policy picks for a scale-in of
 * `count`, one after the other as Auto Scaling does
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-termination-policies.html):
 * 1. the Availability Zone with the most instances (balance first);
 * 2. in it, instances with the oldest launch template;
 * 3. of those, the ones closest to the next billing hour;
 * 4. one of those at random.
 *
 * @param random - a number in [0, 1) for the last tie (injectable for tests).
 */
export function instancesToTerminate(
  instances: readonly TerminationCandidate[],
  count: number,
  now: number = Date.now(),
  random: () => number = Math.random,
): TerminationCandidate[] {
  const left = [...instances];
  const chosen: TerminationCandidate[] = [];
  while (chosen.length < count && left.length > 0) {
    const pick = pickOne(left, now, random);
    chosen.push(pick);
    left.splice(left.indexOf(pick), 1);
  }
  return chosen;
}

function pickOne(
  instances: readonly TerminationCandidate[],
  now: number,
  random: () => number,
): TerminationCandidate {
  const byZone = new Map<string, TerminationCandidate[]>();
  for (const instance of instances) {
    byZone.set(instance.availabilityZone, [
      ...(byZone.get(instance.availabilityZone) ?? []),
      instance,
    ]);
  }
  const most = Math.max(...[...byZone.values()].map((zone) => zone.length));
  const inZone = [...byZone.values()].find((zone) => zone.length === most)!;
  const oldestTemplate = Math.min(...inZone.map((i) => i.launchTemplateGeneration));
  const onOldest = inZone.filter((i) => i.launchTemplateGeneration === oldestTemplate);
  // Closest to the next billing hour: the most time used of its current hour.
  const used = (i: TerminationCandidate): number => (now - i.launchedAt) % HOUR_MS;
  const mostUsed = Math.max(...onOldest.map(used));
  const closest = onOldest.filter((i) => used(i) === mostUsed);
  return closest[Math.floor(random() * closest.length)]!;
}
