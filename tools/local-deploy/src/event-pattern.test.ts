import { describe, expect, it } from 'vitest';
import { matchesEventPattern, validateEventPattern } from './event-pattern';

const terminating = {
  source: 'aws.autoscaling',
  'detail-type': 'EC2 Instance-terminate Lifecycle Action',
  resources: ['arn:aws:autoscaling:eu-west-1:000000000000:autoScalingGroup:x'],
  detail: { AutoScalingGroupName: 'fleet-a', EC2InstanceId: 'i-0123456789abcdef0' },
};

describe('Function: matchesEventPattern', () => {
  it('matches the pattern a fleet rule uses: source, detail-type and the group name', () => {
    const pattern = {
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
      detail: { AutoScalingGroupName: ['fleet-a'] },
    };
    expect(matchesEventPattern(pattern, terminating)).toBe(true);
    expect(
      matchesEventPattern(pattern, {
        ...terminating,
        detail: { ...terminating.detail, AutoScalingGroupName: 'fleet-b' },
      }),
    ).toBe(false);
    expect(
      matchesEventPattern(pattern, {
        ...terminating,
        'detail-type': 'EC2 Instance Launch Successful',
      }),
    ).toBe(false);
  });

  it('is case-sensitive, ORs within a field and ANDs across fields', () => {
    expect(matchesEventPattern({ source: ['AWS.autoscaling'] }, terminating)).toBe(false);
    expect(matchesEventPattern({ source: ['aws.ec2', 'aws.autoscaling'] }, terminating)).toBe(true);
    expect(
      matchesEventPattern({ source: ['aws.autoscaling'], detail: { Missing: ['x'] } }, terminating),
    ).toBe(false);
  });

  it('matches an event array when one item matches, and the content filters', () => {
    expect(
      matchesEventPattern({ resources: [{ prefix: 'arn:aws:autoscaling:' }] }, terminating),
    ).toBe(true);
    expect(
      matchesEventPattern({ detail: { EC2InstanceId: [{ prefix: 'i-' }] } }, terminating),
    ).toBe(true);
    expect(
      matchesEventPattern({ detail: { AutoScalingGroupName: [{ suffix: '-a' }] } }, terminating),
    ).toBe(true);
    expect(
      matchesEventPattern(
        { detail: { AutoScalingGroupName: [{ 'anything-but': ['fleet-a'] }] } },
        terminating,
      ),
    ).toBe(false);
    expect(
      matchesEventPattern(
        { detail: { AutoScalingGroupName: [{ 'equals-ignore-case': 'FLEET-A' }] } },
        terminating,
      ),
    ).toBe(true);
    expect(matchesEventPattern({ detail: { Missing: [{ exists: false }] } }, terminating)).toBe(
      true,
    );
    expect(
      matchesEventPattern({ detail: { EC2InstanceId: [{ exists: false }] } }, terminating),
    ).toBe(false);
  });
});

describe('Function: validateEventPattern', () => {
  it('refuses a filter it does not emulate and a pattern that is not an object', () => {
    expect(() => validateEventPattern({ detail: { n: [{ numeric: ['>', 1] }] } })).toThrow(
      /not emulated/,
    );
    expect(() => validateEventPattern('aws.autoscaling')).toThrow(/JSON object/);
    expect(() =>
      validateEventPattern({ source: ['aws.autoscaling'], detail: { x: [{ prefix: 'a' }] } }),
    ).not.toThrow();
  });
});
