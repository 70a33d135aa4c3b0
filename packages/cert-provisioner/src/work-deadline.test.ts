import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryDeadline } from './retry-until-deadline';
import { withinWorkDeadline } from './work-deadline';

const deadline = { timeoutMarginMs: 1000, cleanupReserveMs: 500 };

/** Work that waits for its signal and reports when and why it stopped. */
function untilAborted(signal: AbortSignal): Promise<{ at: number; reason: unknown }> {
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve({ at: Date.now(), reason: signal.reason }));
  });
}

describe('Function: withinWorkDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts the work with a DeadlineError margin + reserve before the Lambda deadline', async () => {
    let signal: AbortSignal | undefined;
    const pending = withinWorkDeadline({ getRemainingTimeInMillis: () => 4000 }, deadline, (s) => {
      signal = s;
      return untilAborted(s);
    });

    await vi.advanceTimersByTimeAsync(2499);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);

    const stopped = await pending;
    expect(stopped.at).toBe(2500);
    expect(stopped.reason).toMatchObject({ name: 'DeadlineError' });
  });

  it('aborts at once when less than margin + reserve is left', async () => {
    const pending = withinWorkDeadline(
      { getRemainingTimeInMillis: () => 1200 },
      deadline,
      untilAborted,
    );
    await vi.advanceTimersByTimeAsync(0);

    expect((await pending).at).toBe(0);
  });

  it("works from Lambda's 15 minutes when the context cannot tell the time left", async () => {
    const pending = withinWorkDeadline({}, deadline, untilAborted);
    await vi.advanceTimersByTimeAsync(900_000);

    expect((await pending).at).toBe(900_000 - 1500);
  });

  it('sets the retry deadline to the abort point for the work and clears it after', async () => {
    const retryDeadline = new RetryDeadline();
    let during: number | undefined;

    const answer = await withinWorkDeadline(
      { getRemainingTimeInMillis: () => 10_000 },
      { ...deadline, retryDeadline },
      () => {
        during = retryDeadline.epochMs;
        return Promise.resolve('done');
      },
    );

    expect(answer).toBe('done');
    expect(during).toBe(8500);
    expect(retryDeadline.epochMs).toBeUndefined();
  });

  it('clears the retry deadline and the abort timer when the work fails', async () => {
    const retryDeadline = new RetryDeadline();
    let signal: AbortSignal | undefined;
    const failure = new Error('step failed');

    await expect(
      withinWorkDeadline(
        { getRemainingTimeInMillis: () => 10_000 },
        { ...deadline, retryDeadline },
        (s) => {
          signal = s;
          return Promise.reject(failure);
        },
      ),
    ).rejects.toBe(failure);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(retryDeadline.epochMs).toBeUndefined();
    expect(signal?.aborted).toBe(false);
  });
});
