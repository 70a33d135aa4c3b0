import { parseArgs } from 'node:util';
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
  --iot-https-port <port>  IoT control plane HTTPS port (default: free port)
  --s3-https-port <port>   S3 HTTPS port (default: free port)
  --admin-port <port>      local IAM admin endpoint port (default: free port)
  --throttle <Op=TPS>      throttle an IoT operation, e.g. CreateKeysAndCertificate=10 (repeatable);
                           fleet:RegisterThing, fleet:CreateCertificateFromCsr and
                           fleet:CreateKeysAndCertificate set the provisioning MQTT API's rates
                           (default 10 each, AWS's)
  --provisioning-template-conditions
                           accept CloudFormation Conditions and Fn::If/Equals/Not/And/Or in
                           provisioning templates (AWS does not document them there)
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
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        verbose: { type: 'boolean' },
        'state-dir': { type: 'string' },
        region: { type: 'string' },
        'iot-port': { type: 'string' },
        's3-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'iot-https-port': { type: 'string' },
        's3-https-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'detach-delay-ms': { type: 'string' },
        'connect-interval-ms': { type: 'string' },
        throttle: { type: 'string', multiple: true },
        'provisioning-template-conditions': { type: 'boolean' },
      },
    }));
  } catch (error) {
    // node:util's messages span lines and go on about '--' positionals; the first part is the point.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError((message.split('. To specify')[0] ?? message).replace(/\n/g, ' '), {
      cause: error,
    });
  }
  if (values.help === true) return { kind: 'help' };
  const options: LocalCloudOptions = {};
  if (values.verbose === true) options.verbose = true;
  if (values['state-dir'] !== undefined) options.stateDir = values['state-dir'];
  if (values.region !== undefined) options.region = values.region;
  if (values['iot-port'] !== undefined) options.iotPort = port('--iot-port', values['iot-port']);
  if (values['s3-port'] !== undefined) options.s3Port = port('--s3-port', values['s3-port']);
  if (values['mqtt-port'] !== undefined)
    options.mqttPort = port('--mqtt-port', values['mqtt-port']);
  if (values['iot-https-port'] !== undefined)
    options.iotHttpsPort = port('--iot-https-port', values['iot-https-port']);
  if (values['s3-https-port'] !== undefined)
    options.s3HttpsPort = port('--s3-https-port', values['s3-https-port']);
  if (values['admin-port'] !== undefined)
    options.adminPort = port('--admin-port', values['admin-port']);
  if (values['detach-delay-ms'] !== undefined)
    options.detachDelayMs = nonNegative('--detach-delay-ms', values['detach-delay-ms']);
  if (values['connect-interval-ms'] !== undefined)
    options.connectIntervalMs = nonNegative('--connect-interval-ms', values['connect-interval-ms']);
  if (values.throttle !== undefined) options.throttle = throttle(values.throttle);
  if (values['provisioning-template-conditions'] === true) {
    options.provisioningTemplateConditions = true;
  }
  return { kind: 'start', options };
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

/** `--throttle Op=TPS` values (repeatable) as operation → requests per second. */
function throttle(pairs: string[]): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const operation = at === -1 ? pair : pair.slice(0, at);
    const rate = at === -1 ? NaN : Number(pair.slice(at + 1));
    if (operation.length === 0 || !Number.isFinite(rate) || rate <= 0) {
      throw new UsageError('--throttle expects Operation=TPS, e.g. CreateKeysAndCertificate=10');
    }
    rates[operation] = rate;
  }
  return rates;
}

/**
 * The lines the CLI prints once the cloud is up: endpoints, then `export` lines (the
 * environment, and the admin endpoint of the local IAM with its token for another process).
 */
export function describeCloud(cloud: {
  iotEndpoint: string;
  s3Endpoint: string;
  iotHttpsEndpoint?: string;
  s3HttpsEndpoint?: string;
  mqtt: { host: string; port: number; caPath: string };
  env: Record<string, string>;
  admin?: { endpoint: string; token: string };
}): string[] {
  const exports: Record<string, string> = { ...cloud.env };
  if (cloud.admin !== undefined) {
    exports.THINGCERT_LOCAL_CLOUD_ADMIN_ENDPOINT = cloud.admin.endpoint;
    exports.THINGCERT_LOCAL_CLOUD_ADMIN_TOKEN = cloud.admin.token;
  }
  return [
    `# IoT control plane: ${cloud.iotEndpoint}${cloud.iotHttpsEndpoint === undefined ? '' : `, ${cloud.iotHttpsEndpoint}`}`,
    `# S3:                ${cloud.s3Endpoint}${cloud.s3HttpsEndpoint === undefined ? '' : `, ${cloud.s3HttpsEndpoint}`}`,
    `# MQTT (mTLS 3.1.1): ${cloud.mqtt.host}:${cloud.mqtt.port} (CA ${cloud.mqtt.caPath})`,
    ...Object.entries(exports).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
  ];
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
