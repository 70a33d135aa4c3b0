import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runInDependencyOrder, type GraphRun } from './graph-scheduler';

/** A → B → C, and D on its own. */
const graph = new Map<string, ReadonlySet<string>>([
  ['A', new Set()],
  ['B', new Set(['A'])],
  ['C', new Set(['B'])],
  ['D', new Set()],
]);

/** Runs {@link graph}; `failing` throws, the others take `delayMs`. Returns what ran, in order. */
async function run(
  options: Pick<GraphRun, 'concurrency' | 'onFailure'> & { failing?: string; delayMs?: number },
) {
  const ran: string[] = [];
  const result = await runInDependencyOrder({
    ...options,
    waitsFor: graph,
    run: async (key) => {
      ran.push(key);
      if (key === options.failing) throw new Error(`${key} failed`);
      await sleep(options.delayMs ?? 0);
    },
  });
  return { ran, result };
}

describe('Function: runInDependencyOrder', () => {
  it('runs each operation after what it waits for, in map order when sequential', async () => {
    const { ran, result } = await run({ concurrency: 1, onFailure: 'stop' });

    expect(ran).toEqual(['A', 'B', 'C', 'D']);
    expect(result.completed).toEqual(ran);
  });

  it('starts nothing new after a failure when stopping, and waits for what runs', async () => {
    const { ran, result } = await run({
      concurrency: 2,
      onFailure: 'stop',
      failing: 'A',
      delayMs: 50,
    });

    expect(ran).toEqual(['A', 'D']);
    expect(result.completed).toEqual(['D']);
    expect([...result.failed.keys()]).toEqual(['A']);
    expect(result.notStarted).toEqual(['B', 'C']);
  });

  it('carries on past a failure when continuing, the failed one counting as done', async () => {
    const { ran, result } = await run({ concurrency: 1, onFailure: 'continue', failing: 'B' });

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
