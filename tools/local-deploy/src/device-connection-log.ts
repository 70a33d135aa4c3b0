/** One connection event of a device runner's `--json` output. */
export interface DeviceConnectionEvent {
  readonly event: 'online' | 'offline' | 'credentials-changed';
  /** `online`/`offline`: the certificate in use; `credentials-changed`: the one moved to. */
  readonly certificateId: string | undefined;
}

/**
 * Follows each device runner's `--json` event lines (`online`, `offline`,
 * `credentials-changed`) and knows, per thing, which certificate the device
 * is online with now: the audit's view of a device, from its own event log.
 *
 * @example
 * ```ts
 * const devices = new DeviceConnectionLog();
 * new LocalStack('Thingcert', { cloud, log: (source, line) => devices.observeSource(source, line) });
 * devices.onlineCertificate('thingcert-device-1'); // the certificate id, or undefined when offline
 * ```
 */
export class DeviceConnectionLog {
  private readonly byThing = new Map<string, DeviceConnectionEvent[]>();

  /** Takes a line the deployer relays (`device <thing>` sources only; others are ignored). */
  observeSource(source: string, line: string): void {
    if (source.startsWith('device ')) this.observe(source.slice('device '.length), line);
  }

  /** Takes one output line of a thing's runner; lines that are not connection events are ignored. */
  observe(thing: string, line: string): void {
    let parsed: { event?: unknown; certificateId?: unknown; to?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const { event } = parsed;
    if (event !== 'online' && event !== 'offline' && event !== 'credentials-changed') return;
    const id = event === 'credentials-changed' ? parsed.to : parsed.certificateId;
    const events = this.byThing.get(thing) ?? [];
    events.push({ event, certificateId: typeof id === 'string' ? id : undefined });
    this.byThing.set(thing, events);
  }

  /** Every connection event of a thing's device so far, oldest first. */
  events(thing: string): readonly DeviceConnectionEvent[] {
    return this.byThing.get(thing) ?? [];
  }

  /** The certificate the thing's device is online with now, `undefined` when it is not online. */
  onlineCertificate(thing: string): string | undefined {
    const last = this.events(thing).findLast((e) => e.event !== 'credentials-changed');
    return last?.event === 'online' ? last.certificateId : undefined;
  }

  /** {@link onlineCertificate} of every thing seen so far. */
  online(): Map<string, string | undefined> {
    return new Map([...this.byThing.keys()].map((thing) => [thing, this.onlineCertificate(thing)]));
  }
}
