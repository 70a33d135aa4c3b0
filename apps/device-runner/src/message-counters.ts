import type { RunCounters } from './event-log';

/**
 * Counts the run's messages for the event log: publishes sent and
 * acknowledged, distinct messages of this run that came back, and repeated
 * deliveries. Each message is `"<text> [i]"` with `i` counting up from 1, so
 * "which came back" is kept as the highest `i` below which all did plus the
 * few above it: memory stays small on a service running for months.
 */
export class MessageCounters {
  published = 0;
  acked = 0;
  private duplicates = 0;
  /** Every index up to this one came back. */
  private contiguous = 0;
  private readonly above = new Set<number>();
  private readonly message: string;

  /** @param message the run's message text (`--message`) */
  constructor(message: string) {
    this.message = message;
  }

  /** Records one delivery of `payload` (the JSON string sent); others' messages are ignored. */
  received(payload: string): void {
    const index = Number(/ \[(\d+)\]"$/.exec(payload)?.[1]);
    if (!Number.isSafeInteger(index) || index < 1) return;
    if (payload !== JSON.stringify(`${this.message} [${index}]`)) return;
    if (index <= this.contiguous || this.above.has(index)) {
      this.duplicates++;
      return;
    }
    this.above.add(index);
    while (this.above.delete(this.contiguous + 1)) this.contiguous++;
  }

  /** The counts now. */
  snapshot(): RunCounters {
    return {
      published: this.published,
      acked: this.acked,
      received: this.contiguous + this.above.size,
      duplicates: this.duplicates,
    };
  }
}
