/**
 * What one device did during one rotation, read from its `--json` event
 * lines: time offline (from `offline` to the next `online`), messages
 * acknowledged, received and lost (acknowledged but never received).
 */
export interface DeviceRotationStats {
  readonly device: string;
  /** Milliseconds offline, summed over every `offline`→`online` that began in the window. */
  readonly offlineMs: number;
  /** How many times it went offline in the window. */
  readonly reconnects: number;
  /** Still offline at the end of the window (its time counts up to the window's end). */
  readonly stillOffline: boolean;
  /** QoS 1 publishes acknowledged in the window (`published` lines). */
  readonly published: number;
  /** Distinct messages of the window that came back. */
  readonly received: number;
  /** Indexes acknowledged in the window that never came back (so far). */
  readonly lost: number;
  /** The certificate of its last `online` line, if it has been online. */
  readonly certificateId: string | undefined;
}

interface Transition {
  readonly online: boolean;
  readonly at: number;
}

interface DeviceTrack {
  /** Acknowledged index → when. */
  readonly acked: Map<number, number>;
  /** Received index → first time. */
  readonly received: Map<number, number>;
  readonly transitions: Transition[];
  certificateId: string | undefined;
}

/** The message index in a `received` payload (`"\"Hello World! [7]\""`), or undefined. */
function receivedIndex(payload: unknown): number | undefined {
  if (typeof payload !== 'string') return undefined;
  const index = Number(/\[(\d+)\]"?$/.exec(payload)?.[1]);
  return Number.isSafeInteger(index) && index > 0 ? index : undefined;
}

/**
 * Collects the device runners' event lines (as `pnpm start` relays them)
 * and answers, for any time window, what each device did in it. Pure: the
 * caller passes the time each line arrived.
 *
 * @example
 * ```ts
 * const tracker = new DeviceEventTracker();
 * tracker.record('thingcert-device-1', line, Date.now());
 * const stats = tracker.window(rotationStart, Date.now());
 * ```
 */
export class DeviceEventTracker {
  private readonly devices = new Map<string, DeviceTrack>();

  /** Records one output line of `device`; lines that are not JSON events are ignored. */
  record(device: string, line: string, at: number): void {
    let event: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== 'object' || value === null) return;
      event = value as Record<string, unknown>;
    } catch {
      return;
    }
    const track = this.track(device);
    switch (event.event) {
      case 'published':
        if (typeof event.index === 'number') track.acked.set(event.index, at);
        break;
      case 'received': {
        const index = receivedIndex(event.payload);
        if (index !== undefined && !track.received.has(index)) track.received.set(index, at);
        break;
      }
      case 'online':
        track.transitions.push({ online: true, at });
        if (typeof event.certificateId === 'string') track.certificateId = event.certificateId;
        break;
      case 'offline':
        track.transitions.push({ online: false, at });
        break;
    }
  }

  /** The devices seen so far, in the order their first line came. */
  get deviceNames(): readonly string[] {
    return [...this.devices.keys()];
  }

  /** Acknowledged publishes of `device` so far. */
  ackedCount(device: string): number {
    return this.devices.get(device)?.acked.size ?? 0;
  }

  /** Whether `device`'s last transition is `online`, and on which certificate. */
  onlineWith(device: string): string | undefined {
    const track = this.devices.get(device);
    const last = track?.transitions.at(-1);
    return last?.online ? track?.certificateId : undefined;
  }

  /** What each device did between `from` and `to` (milliseconds, as passed to {@link record}). */
  window(from: number, to: number): DeviceRotationStats[] {
    return [...this.devices].map(([device, track]) => {
      let offlineMs = 0;
      let reconnects = 0;
      let offlineSince: number | undefined;
      for (const transition of track.transitions) {
        if (!transition.online && offlineSince === undefined) {
          if (transition.at < from || transition.at > to) continue;
          offlineSince = transition.at;
          reconnects++;
        } else if (transition.online && offlineSince !== undefined) {
          offlineMs += transition.at - offlineSince;
          offlineSince = undefined;
        }
      }
      const stillOffline = offlineSince !== undefined;
      if (offlineSince !== undefined) offlineMs += to - offlineSince;
      let published = 0;
      let lost = 0;
      for (const [index, at] of track.acked) {
        if (at < from || at > to) continue;
        published++;
        if (!track.received.has(index)) lost++;
      }
      let received = 0;
      for (const at of track.received.values()) if (at >= from && at <= to) received++;
      return {
        device,
        offlineMs,
        reconnects,
        stillOffline,
        published,
        received,
        lost,
        certificateId: track.certificateId,
      };
    });
  }

  private track(device: string): DeviceTrack {
    let track = this.devices.get(device);
    if (!track) {
      track = { acked: new Map(), received: new Map(), transitions: [], certificateId: undefined };
      this.devices.set(device, track);
    }
    return track;
  }
}

/** One rotation as `pnpm start --rotate` reports it. */
export interface RotationReport {
  /** 1-based. */
  readonly rotation: number;
  readonly of: number;
  /** The stack's final status after the Update. */
  readonly status: string;
  readonly updateMs: number;
  readonly devices: readonly DeviceRotationStats[];
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/**
 * The printed lines of one rotation: a header with the update, then one per device.
 *
 * @example
 * `rotation 1/2: UPDATE_COMPLETE in 3.10 s`
 * `  thingcert-device-1: offline 0.41 s (1 reconnect), published 62, received 62, lost 0, on 5c1e…`
 */
export function formatRotation(report: RotationReport): string[] {
  return [
    `rotation ${report.rotation}/${report.of}: ${report.status} in ${seconds(report.updateMs)}`,
    ...report.devices.map(
      (device) =>
        `  ${device.device}: offline ${seconds(device.offlineMs)} (${device.reconnects} reconnect${device.reconnects === 1 ? '' : 's'}${device.stillOffline ? ', still offline' : ''}), ` +
        `published ${device.published}, received ${device.received}, lost ${device.lost}, on ${device.certificateId?.slice(0, 12) ?? 'no certificate'}…`,
    ),
  ];
}

/** The source `pnpm start` prints its rotation lines under: `[rotate] rotation 1/2: …`. */
export const ROTATION_LOG_SOURCE = 'rotate';

/**
 * One device line of a rotation, as read back from `pnpm start`'s output: the
 * tracker's figures, with the start of the certificate id the line shows.
 */
export type PrintedDeviceRotation = Omit<DeviceRotationStats, 'certificateId'> & {
  /** The first 12 hex digits of the certificate id it ended on, or `no certificate`. */
  readonly certificatePrefix: string;
};

/** One rotation read back from `pnpm start`'s output (the lines of {@link formatRotation}). */
export interface PrintedRotation {
  readonly rotation: number;
  readonly of: number;
  readonly status: string;
  /** Milliseconds, to the hundredth of a second printed. */
  readonly updateMs: number;
  readonly devices: readonly PrintedDeviceRotation[];
}

const PRINTED_HEADER = /^rotation (\d+)\/(\d+): (\S+) in (\d+\.\d\d) s$/;
const PRINTED_DEVICE =
  /^ {2}(\S+): offline (\d+\.\d\d) s \((\d+) reconnects?(, still offline)?\), published (\d+), received (\d+), lost (\d+), on (.+)…$/;

/**
 * The rotations in what `pnpm start --rotate N` printed: every line under
 * `[rotate]` that {@link formatRotation} wrote, parsed back, in order. Other
 * lines are skipped. The inverse of the format, for those who read the CLI's
 * output (its integration test, the benchmark).
 */
export function readPrintedRotations(output: string): PrintedRotation[] {
  const prefix = `[${ROTATION_LOG_SOURCE}] `;
  const rotations: {
    header: Omit<PrintedRotation, 'devices'>;
    devices: PrintedDeviceRotation[];
  }[] = [];
  const ms = (printed: string | undefined): number => Math.round(Number(printed) * 1000);
  for (const line of output.split(/\r?\n/)) {
    if (!line.startsWith(prefix)) continue;
    const text = line.slice(prefix.length);
    const header = PRINTED_HEADER.exec(text);
    if (header) {
      rotations.push({
        header: {
          rotation: Number(header[1]),
          of: Number(header[2]),
          status: String(header[3]),
          updateMs: ms(header[4]),
        },
        devices: [],
      });
      continue;
    }
    const device = PRINTED_DEVICE.exec(text);
    if (device) {
      rotations.at(-1)?.devices.push({
        device: String(device[1]),
        offlineMs: ms(device[2]),
        reconnects: Number(device[3]),
        stillOffline: device[4] !== undefined,
        published: Number(device[5]),
        received: Number(device[6]),
        lost: Number(device[7]),
        certificatePrefix: String(device[8]),
      });
    }
  }
  return rotations.map(({ header, devices }) => ({ ...header, devices }));
}
