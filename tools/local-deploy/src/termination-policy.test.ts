import { describe, expect, it } from 'vitest';
import { instancesToTerminate, type TerminationCandidate } from './termination-policy';

const NOW = 10_000_000;

function instance(
  instanceId: string,
  overrides: Partial<TerminationCandidate> = {},
): TerminationCandidate {
  return {
    instanceId,
    availabilityZone: 'eu-west-1a',
    launchTemplateGeneration: 0,
    launchedAt: NOW - 60_000,
    ...overrides,
  };
}

describe('Function: instancesToTerminate', () => {
  it('balances the zones first: takes from the zone with the most instances', () => {
    const chosen = instancesToTerminate(
      [
        instance('a1', { launchedAt: NOW - 90_000 }),
        instance('b1', { availabilityZone: 'eu-west-1b' }),
        instance('b2', { availabilityZone: 'eu-west-1b' }),
      ],
      1,
      NOW,
    );
    expect(chosen.map((i) => i.instanceId)).toHaveLength(1);
    expect(chosen[0]!.availabilityZone).toBe('eu-west-1b');
  });

  it('then the oldest launch template, then the one closest to its next billing hour', () => {
    const instances = [
      instance('new-template-old-instance', {
        launchTemplateGeneration: 1,
        launchedAt: NOW - 3_000_000,
      }),
      instance('old-template-young', { launchedAt: NOW - 1_000 }),
      instance('old-template-older', { launchedAt: NOW - 50_000 }),
    ];
    expect(instancesToTerminate(instances, 1, NOW).map((i) => i.instanceId)).toEqual([
      'old-template-older',
    ]);
    expect(instancesToTerminate(instances, 3, NOW).map((i) => i.instanceId)).toEqual([
      'old-template-older',
      'old-template-young',
      'new-template-old-instance',
    ]);
  });

  it('breaks a last tie at random and never picks more than there are', () => {
    const instances = [instance('x'), instance('y')];
    expect(instancesToTerminate(instances, 1, NOW, () => 0.99)[0]!.instanceId).toBe('y');
    expect(instancesToTerminate(instances, 1, NOW, () => 0)[0]!.instanceId).toBe('x');
    expect(instancesToTerminate(instances, 5, NOW)).toHaveLength(2);
  });
});
