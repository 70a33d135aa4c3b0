/**
 * AWS IoT's one CONNECT per second per client id: remembers when each client
 * id last connected and says whether a new CONNECT comes too soon.
 */
export class ConnectWindow {
  /** Client id -> time of its last accepted CONNECT, oldest first (re-inserted on each accept). */
  private readonly lastConnectAt = new Map<string, number>();

  /** @param intervalMs the window in milliseconds; 0 disables the limit. */
  constructor(private readonly intervalMs: number) {}

  /** Whether a CONNECT by `clientId` at `now` falls inside the window of its last accepted one. */
  tooSoon(clientId: string, now: number): boolean {
    const last = this.lastConnectAt.get(clientId);
    return this.intervalMs > 0 && last !== undefined && now - last < this.intervalMs;
  }

  /** Records an accepted CONNECT (refused ones must not open the window). */
  record(clientId: string, now: number): void {
    if (this.intervalMs <= 0) return;
    this.lastConnectAt.delete(clientId);
    this.lastConnectAt.set(clientId, now);
    // Entries are in time order: forget the ones whose window has closed, so the map stays small.
    for (const [id, at] of this.lastConnectAt) {
      if (now - at < this.intervalMs) break;
      this.lastConnectAt.delete(id);
    }
  }
}
