/** Everything the runner reports, one line each. */
export type RunEvent =
  | { readonly event: 'credentials'; readonly source: 's3' | 'files'; readonly location: string }
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
  | { readonly event: 'error'; readonly message: string; readonly kind: 'user' | 'fault' };

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
    (event.event === 'error' ? streams.stderr : streams.stdout).write(`${line}\n`);
  };
}

function textLine(event: RunEvent): string | undefined {
  switch (event.event) {
    case 'credentials':
      return event.source === 's3'
        ? `Downloaded certificate and key from ${event.location}`
        : `Using certificate and key ${event.location}`;
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
  }
}
