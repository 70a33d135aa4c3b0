/**
 * Work that runs after a delay, and that the caller can wait for (`settle`) or
 * cancel (`cancel`, when the server closes). Each task's failure is swallowed:
 * nobody is left to answer by the time it runs.
 */
export class DelayedTasks {
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `task` after `delayMs` milliseconds. */
  schedule(delayMs: number, task: () => Promise<void>): void {
    const pending = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        task().then(resolve, resolve);
      }, delayMs);
      this.timers.add(timer);
    });
    this.pending.add(pending);
    void pending.then(() => this.pending.delete(pending));
  }

  /** Resolves once every task scheduled so far has run. */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Drops every task that has not started yet. */
  cancel(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
