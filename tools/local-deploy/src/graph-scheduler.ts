/** Whether a running operation was given up on (see {@link GraphRun.abandonOnFailure}). */
export interface OperationToken {
  readonly abandoned: boolean;
}

/** One run of operations in dependency order. */
export interface GraphRun {
  /**
   * Every operation by key, in the order to prefer among those ready, with
   * the keys it must wait for (keys not in the map are ignored).
   */
  readonly waitsFor: ReadonlyMap<string, ReadonlySet<string>>;
  /** How many operations run at once. */
  readonly concurrency: number;
  /**
   * After a failure: `stop` starts nothing new and waits for the running
   * operations (CloudFormation's create and update phases); `continue` carries
   * on with every other operation, a failed one counting as done for those
   * waiting on it (deletes).
   */
  readonly onFailure: 'stop' | 'continue';
  /** Runs one operation; a rejection is its failure. */
  run(key: string, token: OperationToken): Promise<void>;
  /**
   * Whether an operation still running when another fails is given up on
   * instead of awaited (its token turns `abandoned`; it still runs to its
   * end, and {@link GraphRunResult.abandoned} tells when).
   * @default never
   */
  abandonOnFailure?(key: string): boolean;
}

/** How a {@link GraphRun} ended. */
export interface GraphRunResult {
  /** Operations that finished, in the order they finished. */
  readonly completed: readonly string[];
  /** Operations that failed, in the order they failed, with their errors. */
  readonly failed: ReadonlyMap<string, unknown>;
  /** Operations never started because of a failure (`stop` only). */
  readonly notStarted: readonly string[];
  /** Operations given up on, each with the promise of its own end. */
  readonly abandoned: ReadonlyMap<string, Promise<void>>;
}

/**
 * Runs operations as CloudFormation schedules them: each once everything it
 * waits for is done, independent ones in parallel up to `concurrency`.
 * Starting order among ready operations follows the map's order, so with a
 * concurrency of 1 the run is sequential and deterministic.
 */
export function runInDependencyOrder(graph: GraphRun): Promise<GraphRunResult> {
  const pending = new Map(graph.waitsFor);
  const settled = new Set<string>();
  const completed: string[] = [];
  const failed = new Map<string, unknown>();
  const running = new Map<string, { token: { abandoned: boolean }; end: Promise<void> }>();
  const abandoned = new Map<string, Promise<void>>();
  const ready = (key: string): boolean =>
    [...pending.get(key)!].every((dep) => settled.has(dep) || !graph.waitsFor.has(dep));

  return new Promise((resolve) => {
    const pump = (): void => {
      const stopped = failed.size > 0 && graph.onFailure === 'stop';
      if (!stopped) {
        for (const key of [...pending.keys()]) {
          if (running.size >= Math.max(1, graph.concurrency)) break;
          if (ready(key)) start(key);
        }
      }
      if (running.size === 0) {
        resolve({ completed, failed, notStarted: [...pending.keys()], abandoned });
      }
    };
    const finish = (key: string, error?: { cause: unknown }): void => {
      const entry = running.get(key);
      if (!entry) return;
      running.delete(key);
      settled.add(key);
      if (error) failed.set(key, error.cause);
      else completed.push(key);
      if (error && graph.onFailure === 'stop') giveUpOnRunning();
      pump();
    };
    const giveUpOnRunning = (): void => {
      for (const [key, entry] of running) {
        if (!graph.abandonOnFailure?.(key)) continue;
        entry.token.abandoned = true;
        running.delete(key);
        abandoned.set(key, entry.end);
      }
    };
    const start = (key: string): void => {
      pending.delete(key);
      const token = { abandoned: false };
      const end = Promise.resolve()
        .then(() => graph.run(key, token))
        .then(
          () => finish(key),
          (cause: unknown) => finish(key, { cause }),
        );
      running.set(key, { token, end });
    };
    pump();
  });
}
