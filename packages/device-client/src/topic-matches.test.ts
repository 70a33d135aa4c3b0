import { describe, expect, it } from 'vitest';
import { topicMatches } from './topic-matches';

describe('Function: topicMatches', () => {
  it.each([
    ['test/topic', 'test/topic', true],
    ['test/topic', 'test/other', false],
    ['test/+', 'test/topic', true],
    ['test/+', 'test/topic/deeper', false],
    ['test/#', 'test', true],
    ['test/#', 'test/a/b', true],
    ['#', 'anything/at/all', true],
    ['#', '$aws/things/x', false],
    ['+/x', '$SYS/x', false],
    ['a/+/c', 'a//c', true],
    ['a/b', 'a/b/c', false],
  ])('%s vs %s → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
