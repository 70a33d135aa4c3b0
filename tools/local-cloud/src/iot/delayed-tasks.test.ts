import { describe, expect, it } from 'vitest';
import { DelayedTasks } from './delayed-tasks';

describe('Class: DelayedTasks', () => {
  it('runs a task after its delay, and settle waits for it even when it fails', async () => {
    // Prepare
    const tasks = new DelayedTasks();
    const ran: string[] = [];

    // Act
    tasks.schedule(20, () => {
      ran.push('ok');
      return Promise.resolve();
    });
    tasks.schedule(10, () => Promise.reject(new Error('nobody is left to answer')));
    const before = [...ran];
    await tasks.settle();

    // Assess
    expect(before).toEqual([]);
    expect(ran).toEqual(['ok']);
  });

  it('does not run tasks after cancel', async () => {
    const tasks = new DelayedTasks();
    let ran = false;
    tasks.schedule(10, () => {
      ran = true;
      return Promise.resolve();
    });
    tasks.cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ran).toBe(false);
  });
});
