import { describe, expect, it } from 'vitest';
import { pageSize, paginate } from './paging';

describe('Function: paginate', () => {
  it('walks a listing page by page with opaque tokens, the last page without one', () => {
    const all = ['a', 'b', 'c', 'd', 'e'];
    const first = paginate(all, null, 2);
    const second = paginate(all, first.next ?? null, 2);
    const third = paginate(all, second.next ?? null, 2);
    expect([first.items, second.items, third.items]).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(third.next).toBeUndefined();
  });

  it('refuses a token it did not make', () => {
    expect(() => paginate([1], Buffer.from('-3').toString('base64url'), 1)).toThrow(
      expect.objectContaining({ code: 'InvalidRequestException' }),
    );
  });
});

describe('Function: pageSize', () => {
  it('takes the fallback when absent and refuses sizes outside 1..max', () => {
    expect(pageSize(null, 25, 250)).toBe(25);
    expect(pageSize('250', 25, 250)).toBe(250);
    for (const raw of ['0', '251', '2.5', 'x']) {
      expect(() => pageSize(raw, 25, 250)).toThrow('Page size must be between 1 and 250');
    }
  });
});
