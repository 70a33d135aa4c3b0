import { describe, expect, it } from 'vitest';
import { describeCloud, parseCliArgs } from './cli-args';

describe('Function: parseCliArgs', () => {
  it('maps every flag to startLocalCloud options', () => {
    expect(
      parseCliArgs([
        '--state-dir',
        '/tmp/s',
        '--iot-port=4000',
        '--s3-port',
        '4001',
        '--mqtt-port',
        '8883',
        '--iot-https-port=4443',
        '--s3-https-port=4444',
        '--admin-port=4445',
        '--verbose',
        '--throttle',
        'CreateKeysAndCertificate=10',
        '--throttle=AttachPolicy=2.5',
        '--detach-delay-ms',
        '1500',
        '--connect-interval-ms',
        '0',
        '--throttle=fleet:RegisterThing=5',
        '--provisioning-template-conditions',
      ]),
    ).toEqual({
      kind: 'start',
      options: {
        stateDir: '/tmp/s',
        iotPort: 4000,
        s3Port: 4001,
        mqttPort: 8883,
        iotHttpsPort: 4443,
        s3HttpsPort: 4444,
        adminPort: 4445,
        verbose: true,
        throttle: { CreateKeysAndCertificate: 10, AttachPolicy: 2.5, 'fleet:RegisterThing': 5 },
        detachDelayMs: 1500,
        connectIntervalMs: 0,
        provisioningTemplateConditions: true,
      },
    });
  });

  it('starts with defaults when given nothing, and answers --help', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'start', options: {} });
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--bogus']],
    [['--iot-port', 'abc']],
    [['--iot-port', '70000']],
    [['--throttle', 'CreateThing']],
    [['--throttle', 'CreateThing=0']],
    [['--state-dir']],
    [['--detach-delay-ms', '-1']],
    [['--connect-interval-ms', 'soon']],
  ])('refuses %j with a UsageError', (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(expect.objectContaining({ name: 'UsageError' }));
  });
});

describe('Function: describeCloud', () => {
  it('prints endpoints and one quoted export line per variable', () => {
    const lines = describeCloud({
      iotEndpoint: 'http://127.0.0.1:1',
      s3Endpoint: 'http://127.0.0.1:2',
      mqtt: { host: 'localhost', port: 3, caPath: '/tmp/ca.pem' },
      env: { A: 'plain', B: "it's spaced" },
    });
    expect(lines.filter((l) => l.startsWith('export '))).toEqual([
      'export A=plain',
      `export B='it'\\''s spaced'`,
    ]);
    expect(lines.join('\n')).toContain('http://127.0.0.1:1');
  });

  it('prints the HTTPS endpoints, and the admin endpoint and token as exports apart from env', () => {
    const lines = describeCloud({
      iotEndpoint: 'http://127.0.0.1:1',
      s3Endpoint: 'http://127.0.0.1:2',
      iotHttpsEndpoint: 'https://127.0.0.1:4',
      s3HttpsEndpoint: 'https://127.0.0.1:5',
      mqtt: { host: 'localhost', port: 3, caPath: '/tmp/ca.pem' },
      env: { A: 'plain' },
      admin: { endpoint: 'http://127.0.0.1:6', token: 'abc' },
    });
    expect(lines.filter((l) => l.startsWith('export '))).toEqual([
      'export A=plain',
      'export THINGCERT_LOCAL_CLOUD_ADMIN_ENDPOINT=http://127.0.0.1:6',
      'export THINGCERT_LOCAL_CLOUD_ADMIN_TOKEN=abc',
    ]);
    expect(lines.join('\n')).toContain('https://127.0.0.1:5');
  });
});

describe('Function: parseCliArgs (messages)', () => {
  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--state-dir'], "Option '--state-dir <value>' argument missing"],
    [['--mqtt-port=-1'], '--mqtt-port expects a port number (0-65535), got -1'],
    [['extra'], "Unexpected argument 'extra'"],
  ])('names what is wrong with %j on one line', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message);
    expect(() => parseCliArgs(argv)).not.toThrow(/\n/);
  });

  it('answers -h like --help', () => {
    expect(parseCliArgs(['-h'])).toEqual({ kind: 'help' });
  });
});
