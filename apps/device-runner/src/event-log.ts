import type { ClaimOperation } from '@thingcert/device-client';

/**
 * The runner's message counters: `published` publishes sent, `acked` of them
 * acknowledged (PUBACK), `received` distinct messages of this run that came
 * back, `duplicates` deliveries of one that had already come back (QoS 1 is
 * at least once: a publish resent across a reconnect may arrive twice).
 */
export interface RunCounters {
  readonly published: number;
  readonly acked: number;
  readonly received: number;
  readonly duplicates: number;
}

/** What made the runner look at its credential pointer. */
export type CheckTrigger = 'interval' | 'dropped' | 'refused';

/** Everything the runner reports, one line each. */
export type RunEvent =
  | {
      readonly event: 'credentials';
      /**
       * `pointer`: read through the credential pointer, and followed. `claim`:
       * the claim certificate, through its pointer. `claimed`: the device's
       * own, made by an earlier provisioning by claim.
       */
      readonly source: 'pointer' | 's3' | 'files' | 'claim' | 'claimed';
      readonly location: string;
      readonly certificateId: string;
    }
  | {
      readonly event: 'connecting';
      readonly endpoint: string;
      readonly port: number;
      readonly clientId: string;
      readonly protocol: 'mqtt5' | 'mqtt3';
    }
  | { readonly event: 'connected'; readonly reconnect: boolean; readonly sessionPresent: boolean }
  | { readonly event: 'interrupted'; readonly message: string }
  | { readonly event: 'subscribed'; readonly topic: string }
  | {
      readonly event: 'publishing';
      readonly topic: string;
      readonly index: number;
      readonly message: string;
    }
  | {
      readonly event: 'published';
      readonly topic: string;
      readonly index: number;
      readonly message: string;
    }
  | { readonly event: 'received'; readonly topic: string; readonly payload: string }
  | { readonly event: 'done'; readonly received: number; readonly expected: number }
  | { readonly event: 'disconnecting' }
  | { readonly event: 'disconnected' }
  | { readonly event: 'error'; readonly message: string; readonly kind: 'user' | 'fault' }
  | ({
      readonly event: 'online';
      readonly certificateId: string;
      readonly reconnect: boolean;
      readonly sessionPresent: boolean;
    } & RunCounters)
  | ({
      readonly event: 'offline';
      readonly certificateId: string;
      /** `dropped`: the connection was lost; `switching`: closed to move to new credentials. */
      readonly cause: 'dropped' | 'switching';
    } & RunCounters)
  | {
      readonly event: 'credentials-changed';
      readonly from: string;
      readonly to: string;
      readonly trigger: CheckTrigger;
    }
  | {
      readonly event: 'credentials-check-failed';
      readonly trigger: CheckTrigger;
      readonly message: string;
    }
  | {
      readonly event: 'refused';
      readonly certificateId: string;
      readonly refusals: number;
      readonly limit: number;
      readonly message: string;
    }
  | ({ readonly event: 'stats'; readonly certificateId: string } & RunCounters)
  | { readonly event: 'claim-connected'; readonly clientId: string; readonly certificateId: string }
  | { readonly event: 'certificate-created'; readonly certificateId: string }
  | {
      readonly event: 'registration-retrying';
      readonly operation: ClaimOperation;
      readonly statusCode: number | undefined;
      readonly errorCode: string | undefined;
      readonly attempt: number;
      readonly delayMs: number;
    }
  | {
      readonly event: 'registered';
      readonly thingName: string;
      readonly certificateId: string;
      /** `reply`: RegisterThing was accepted; `connect`: its reply was lost and the broker accepted the certificate. */
      readonly confirmedBy: 'reply' | 'connect';
    }
  | {
      readonly event: 'registration-rejected';
      readonly operation: ClaimOperation;
      readonly statusCode: number | undefined;
      readonly errorCode: string | undefined;
      readonly errorMessage: string | undefined;
    }
  | {
      readonly event: 'registration-unconfirmed';
      readonly certificateId: string;
      readonly message: string;
    }
  | { readonly event: 'claim-removed'; readonly certificateId: string };

/** Where lines go; `process.stdout`/`stderr` in the CLI, arrays in tests. */
export interface OutputStreams {
  readonly stdout: { write(line: string): unknown };
  readonly stderr: { write(line: string): unknown };
}

/** Writes one {@link RunEvent}. */
export type EventLog = (event: RunEvent) => void;

/**
 * Text lines like the seed's pubsub sample (the log a user already knows), or
 * with `json` one JSON object per line with an `event` field and a `time`.
 * JSON mode skips `publishing` and `disconnecting` (the `published` and
 * `disconnected` events carry the facts) and writes everything to stdout so a
 * parent process reads one stream.
 */
export function createEventLog(
  options: { json: boolean; now?: () => Date },
  streams: OutputStreams,
): EventLog {
  const now = options.now ?? (() => new Date());
  if (options.json) {
    return (event) => {
      if (event.event === 'publishing' || event.event === 'disconnecting') return;
      streams.stdout.write(`${JSON.stringify({ time: now().toISOString(), ...event })}\n`);
    };
  }
  return (event) => {
    const line = textLine(event);
    if (line === undefined) return;
    (TO_STDERR.has(event.event) ? streams.stderr : streams.stdout).write(`${line}\n`);
  };
}

/** Text mode: problems go to stderr, the run's story to stdout. */
const TO_STDERR: ReadonlySet<RunEvent['event']> = new Set([
  'error',
  'credentials-check-failed',
  'refused',
  'registration-unconfirmed',
]);

/** The first 12 hex digits of a certificate id: enough to tell them apart in a log. */
function short(certificateId: string): string {
  return `${certificateId.slice(0, 12)}…`;
}

function credentialsLine(event: Extract<RunEvent, { event: 'credentials' }>): string {
  switch (event.source) {
    case 'pointer':
      return `Downloaded certificate ${short(event.certificateId)} and its key through ${event.location}`;
    case 'claim':
      return `Downloaded claim certificate ${short(event.certificateId)} and its key through ${event.location}`;
    case 'claimed':
      return `Using this device's own certificate ${short(event.certificateId)} (registered by claim) in ${event.location}`;
    case 's3':
      return `Downloaded certificate and key from ${event.location}`;
    case 'files':
      return `Using certificate and key ${event.location}`;
  }
}

function textLine(event: RunEvent): string | undefined {
  switch (event.event) {
    case 'credentials':
      return credentialsLine(event);
    case 'connecting':
      return `Connecting to ${event.endpoint}:${event.port} with client ID '${event.clientId}' (${event.protocol === 'mqtt5' ? 'MQTT 5' : 'MQTT 3.1.1'})...`;
    case 'connected':
      return event.reconnect
        ? `Reconnected! (session ${event.sessionPresent ? 'resumed' : 'new'})`
        : 'Connected!';
    case 'interrupted':
      return `Connection interrupted: ${event.message}`;
    case 'subscribed':
      return `Subscribed to topic '${event.topic}'`;
    case 'publishing':
      return `Publishing message to topic '${event.topic}': ${event.message}`;
    case 'published':
      return undefined;
    case 'received':
      return `Received message from topic '${event.topic}': ${event.payload}`;
    case 'done':
      return `${event.received} message(s) received.`;
    case 'disconnecting':
      return 'Disconnecting...';
    case 'disconnected':
      return 'Disconnected!';
    case 'error':
      return event.kind === 'user' ? `error: ${event.message}` : `internal error: ${event.message}`;
    case 'credentials-changed':
      return `Credentials changed: certificate ${short(event.from)} -> ${short(event.to)} (${event.trigger}); reconnecting with the same client ID and session`;
    case 'credentials-check-failed':
      return `warning: credential check (${event.trigger}) failed, keeping the current certificate: ${event.message}`;
    case 'refused':
      return `warning: the broker refused certificate ${short(event.certificateId)} (${event.refusals} of ${event.limit}): ${event.message}`;
    case 'claim-connected':
      return `Connected with the claim certificate as '${event.clientId}'; provisioning by claim...`;
    case 'certificate-created':
      return `Got certificate ${short(event.certificateId)} for a key made on this device`;
    case 'registration-retrying':
      return `${event.operation} answered ${event.statusCode ?? '?'} ${event.errorCode ?? ''}; retry ${event.attempt} in ${event.delayMs} ms`;
    case 'registered':
      return `Registered as thing '${event.thingName}' with certificate ${short(event.certificateId)}`;
    case 'registration-rejected':
      // The `error` line that follows says it, with the reason.
      return undefined;
    case 'registration-unconfirmed':
      return `warning: ${event.message}; connecting with certificate ${short(event.certificateId)} to find out`;
    case 'claim-removed':
      return `Deleted the claim certificate ${short(event.certificateId)} and its key from this device`;
    case 'online':
    case 'offline':
    case 'stats':
      // Measurements for a driver reading --json; `connected`/`interrupted` tell a person.
      return undefined;
  }
}
