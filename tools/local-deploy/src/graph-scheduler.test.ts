import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runInDependencyOrder } from './graph-scheduler';

/** A → B → C, and D on its own. */
const graph = new Map<string, ReadonlySet<string>>([
  ['A', new Set()],
  ['B', new Set(['A'])],
  ['C', new Set(['B'])],
  ['D', new Set()],
]);

describe('Function: runInDependencyOrder', () => {
  it('runs each operation after what it waits for, in map order when sequential', async () => {
    const ran: string[] = [];

    const result = await runInDependencyOrder({
      waitsFor: graph,
      concurrency: 1,
      onFailure: 'stop',
      run: async (key) => void ran.push(key),
    });

    expect(ran).toEqual(['A', 'B', 'C', 'D']);
    expect(result.completed).toEqual(ran);
  });

  it('starts nothing new after a failure when stopping, and waits for what runs', async () => {
    const ran: string[] = [];

    const result = await runInDependencyOrder({
      waitsFor: graph,
      concurrency: 2,
      onFailure: 'stop',
      run: async (key) => {
        ran.push(key);
        if (key === 'A') throw new Error('A failed');
        await sleep(50);
      },
    });

    expect(ran).toEqual(['A', 'D']);
    expect(result.completed).toEqual(['D']);
    expect([...result.failed.keys()]).toEqual(['A']);
    expect(result.notStarted).toEqual(['B', 'C']);
  });

  it('carries on past a failure when continuing, the failed one counting as done', async () => {
    const ran: string[] = [];

    const result = await runInDependencyOrder({
      waitsFor: graph,
      concurrency: 1,
      onFailure: 'continue',
      run: async (key) => {
        ran.push(key);
        if (key === 'B') throw new Error('B failed');
      },
    });

    expect(ran).toEqual(['A', 'B', 'C', 'D']);
    expect([...result.failed.keys()]).toEqual(['B']);
  });

  it('gives up on a running operation it may abandon, which still runs to its end', async () => {
    const tokens = new Map<string, { readonly abandoned: boolean }>();
    let slowEnded = false;

    const result = await runInDependencyOrder({
      waitsFor: new Map([
        ['Slow', new Set<string>()],
        ['Fails', new Set<string>()],
      ]),
      concurrency: 2,
      onFailure: 'stop',
      abandonOnFailure: (key) => key === 'Slow',
      run: async (key, token) => {
        tokens.set(key, token);
        if (key === 'Fails') throw new Error('failed');
        await sleep(100);
        slowEnded = true;
      },
    });

    expect(slowEnded).toBe(false);
    expect(tokens.get('Slow')?.abandoned).toBe(true);
    await result.abandoned.get('Slow');
    expect(slowEnded).toBe(true);
    expect(result.completed).toEqual([]);
  });
});
