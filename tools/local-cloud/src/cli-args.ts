import { UsageError } from './errors';
import type { LocalCloudOptions } from './local-cloud';

/** Usage text printed for `--help` and for bad arguments. */
export const USAGE = `Usage: local-cloud [options]

Starts a local AWS IoT control plane, S3 and an mTLS MQTT broker, prints the
endpoints and one \`export NAME=value\` line per environment variable, then runs
until Ctrl-C.

Options:
  --state-dir <dir>        keep state and the CA across restarts (default: in memory)
  --iot-port <port>        IoT control plane port (default: free port)
  --s3-port <port>         S3 port (default: free port)
  --mqtt-port <port>       MQTT mTLS port (default: free port)
  --throttle <Op=TPS>      throttle an IoT operation, e.g. CreateKeysAndCertificate=10 (repeatable)
  --detach-delay-ms <ms>   DetachThingPrincipal takes effect after this delay (default: 0)
  --connect-interval-ms <ms>
                           refuse a CONNECT this soon after the client id's last one, as
                           AWS's 1 CONNECT/s per client id (default: 1000; 0 disables)
  --region <region>        AWS region (default: us-east-1)
  --verbose                log one JSON line per request to stderr
  --help                   show this text
`;

/** Parsed command line: options for `startLocalCloud`, or a request for help. */
export type CliCommand = { kind: 'help' } | { kind: 'start'; options: LocalCloudOptions };

/**
 * Parses the CLI arguments (without `node` and the script path).
 * @throws UsageError for unknown flags or bad values.
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const options: LocalCloudOptions = {};
  const throttle: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? splitOnce(arg, '=') : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next.startsWith('--'))
        throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { kind: 'help' };
      case '--verbose':
        options.verbose = true;
        break;
      case '--state-dir':
        options.stateDir = value();
        break;
      case '--region':
        options.region = value();
        break;
      case '--iot-port':
        options.iotPort = port(flag, value());
        break;
      case '--s3-port':
        options.s3Port = port(flag, value());
        break;
      case '--mqtt-port':
        options.mqttPort = port(flag, value());
        break;
      case '--detach-delay-ms':
        options.detachDelayMs = nonNegative(flag, value());
        break;
      case '--connect-interval-ms':
        options.connectIntervalMs = nonNegative(flag, value());
        break;
      case '--throttle': {
        const [operation, tps] = splitOnce(value(), '=');
        const rate = Number(tps);
        if (operation.length === 0 || tps === undefined || !Number.isFinite(rate) || rate <= 0) {
          throw new UsageError(
            '--throttle expects Operation=TPS, e.g. CreateKeysAndCertificate=10',
          );
        }
        throttle[operation] = rate;
        break;
      }
      default:
        throw new UsageError(`unknown argument: ${arg}`);
    }
  }
  if (Object.keys(throttle).length > 0) options.throttle = throttle;
  return { kind: 'start', options };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const index = text.indexOf(separator);
  return index === -1 ? [text, undefined] : [text.slice(0, index), text.slice(index + 1)];
}

function port(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(`${flag} expects a port number (0-65535), got ${text}`);
  }
  return value;
}

function nonNegative(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new UsageError(`${flag} expects a number >= 0, got ${text}`);
  return value;
}

/** The lines the CLI prints once the cloud is up: endpoints, then `export` lines. */
export function describeCloud(cloud: {
  iotEndpoint: string;
  s3Endpoint: string;
  mqtt: { host: string; port: number; caPath: string };
  env: Record<string, string>;
}): string[] {
  return [
    `# IoT control plane: ${cloud.iotEndpoint}`,
    `# S3:                ${cloud.s3Endpoint}`,
    `# MQTT (mTLS 3.1.1): ${cloud.mqtt.host}:${cloud.mqtt.port} (CA ${cloud.mqtt.caPath})`,
    ...Object.entries(cloud.env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
  ];
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
