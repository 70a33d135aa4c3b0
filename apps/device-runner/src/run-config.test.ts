import { describe, expect, it } from 'vitest';
import { config, files, noFile } from '../test/resolve-config';
import { resolveCommand } from './run-config';

const base = ['run', '--thing', 't1', '--endpoint', 'e.example', '--bucket', 'b'];

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Function: resolveCommand', () => {
  it('fills the seed defaults', async () => {
    expect(await config(base, { HOME: '/h' })).toMatchObject({
      topic: 'test/topic',
      count: 5,
      message: 'Hello World!',
      protocol: 'mqtt3',
      port: 8883,
      interval: 0,
      window: 32,
      forever: false,
      json: false,
      ca: undefined,
      cert: undefined,
    });
  });

  it('puts downloaded credentials under $STATE_DIRECTORY when systemd gives one', async () => {
    expect((await config(base, { STATE_DIRECTORY: '/var/lib/x' })).credentialsDir).toBe(
      '/var/lib/x/credentials/t1',
    );
  });

  it('lets flags beat environment, environment beat the file, the file beat defaults', async () => {
    const read = files({
      '/c.json': JSON.stringify({
        topic: 'file/topic',
        count: 7,
        port: 1883,
        message: 'from file',
        forever: true,
        credentialsDir: '/file/dir',
      }),
    });
    const env = { THINGCERT_TOPIC: 'env/topic', THINGCERT_COUNT: '9', THINGCERT_MQTT_PORT: '9999' };
    const resolved = await config([...base, '--config', '/c.json', '--count', '3'], env, read);
    expect(resolved).toMatchObject({
      count: 3,
      topic: 'env/topic',
      port: 9999,
      message: 'from file',
      forever: true,
      credentialsDir: '/file/dir',
    });
  });

  it('reads everything from the environment, including the local cloud variables', async () => {
    const resolved = await config(['run'], {
      THINGCERT_THING: 'env-thing',
      THINGCERT_ENDPOINT: 'localhost',
      THINGCERT_MQTT_PORT: '41234',
      THINGCERT_CA_FILE: '/ca.pem',
      THINGCERT_CERT: '/c.pem',
      THINGCERT_KEY: '/k.pem',
      THINGCERT_PROTOCOL: 'mqtt3',
      THINGCERT_JSON: 'true',
      THINGCERT_FOREVER: '0',
      THINGCERT_INTERVAL: '250',
      THINGCERT_WINDOW: '100',
    });
    expect(resolved).toMatchObject({
      thing: 'env-thing',
      endpoint: 'localhost',
      port: 41234,
      ca: '/ca.pem',
      cert: '/c.pem',
      key: '/k.pem',
      protocol: 'mqtt3',
      json: true,
      forever: false,
      interval: 250,
      window: 100,
    });
  });

  it('reads the object keys the certificate resource returned from the file, env or flags', async () => {
    const read = files({
      '/c.json': JSON.stringify({
        certificateObjectKey: 'fleet/t1/device.pem.crt',
        privateKeyObjectKey: 'fleet/t1/private.pem.key',
      }),
    });
    expect((await config([...base, '--config', '/c.json'], {}, read)).objectKeys).toEqual({
      certificate: 'fleet/t1/device.pem.crt',
      privateKey: 'fleet/t1/private.pem.key',
    });
    const env = {
      THINGCERT_CERTIFICATE_OBJECT_KEY: 'e/c.pem',
      THINGCERT_PRIVATE_KEY_OBJECT_KEY: 'e/k.pem',
    };
    const flags = ['--certificate-object-key', 'f/c.pem', '--private-key-object-key', 'f/k.pem'];
    expect((await config(base, env)).objectKeys).toEqual({
      certificate: 'e/c.pem',
      privateKey: 'e/k.pem',
    });
    expect((await config([...base, ...flags], env)).objectKeys).toEqual({
      certificate: 'f/c.pem',
      privateKey: 'f/k.pem',
    });
    expect((await config(base)).objectKeys).toBeUndefined();
  });

  it("reads through the thing's credential pointer by default, following it", async () => {
    expect(await config(base)).toMatchObject({
      pointerKey: 't1/current.json',
      objectKeys: undefined,
      credentialCheckInterval: 30_000,
      refusedLimit: 5,
    });
  });

  it.each([
    ['the config file', ['--config', '/c.json'], {}],
    ['the environment', [], { THINGCERT_CREDENTIAL_POINTER_OBJECT_KEY: 'fleet/t1/current.json' }],
    ['a flag', ['--credential-pointer-object-key', 'fleet/t1/current.json'], {}],
  ] as Array<[string, string[], Record<string, string>]>)(
    'takes the pointer key from %s, in preference to fixed object keys',
    async (_from, argv, env) => {
      const fixed = ['--certificate-object-key', 'f/c.pem', '--private-key-object-key', 'f/k.pem'];
      const read = files({
        '/c.json': JSON.stringify({ credentialPointerObjectKey: 'fleet/t1/current.json' }),
      });
      expect(await config([...base, ...fixed, ...argv], env, read)).toMatchObject({
        pointerKey: 'fleet/t1/current.json',
        objectKeys: undefined,
      });
    },
  );

  it('follows nothing with fixed object keys or with --cert/--key files', async () => {
    const keys = ['--certificate-object-key', 'f/c.pem', '--private-key-object-key', 'f/k.pem'];
    expect((await config([...base, ...keys])).pointerKey).toBeUndefined();
    expect((await config([...base, '--cert', '/c', '--key', '/k'])).pointerKey).toBeUndefined();
  });

  it('reads the credential check interval and the refused limit', async () => {
    const read = files({
      '/c.json': JSON.stringify({ credentialCheckInterval: 5000, refusedLimit: 3 }),
    });
    expect(await config([...base, '--config', '/c.json'], {}, read)).toMatchObject({
      credentialCheckInterval: 5000,
      refusedLimit: 3,
    });
    const env = { THINGCERT_CREDENTIAL_CHECK_INTERVAL: '200', THINGCERT_REFUSED_LIMIT: '2' };
    expect(await config(base, env)).toMatchObject({
      credentialCheckInterval: 200,
      refusedLimit: 2,
    });
    expect(
      await config([...base, '--credential-check-interval', '150', '--refused-limit', '1']),
    ).toMatchObject({ credentialCheckInterval: 150, refusedLimit: 1 });
  });

  it('takes the config file path from THINGCERT_CONFIG too', async () => {
    const read = files({
      '/etc/x.json': JSON.stringify({ thing: 'f', endpoint: 'e', bucket: 'b' }),
    });
    expect(await config(['run'], { THINGCERT_CONFIG: '/etc/x.json' }, read)).toMatchObject({
      thing: 'f',
    });
  });

  it('answers --help and -h even with other arguments', async () => {
    expect(await resolveCommand(['--help'], {}, noFile)).toEqual({ kind: 'help' });
    expect(await resolveCommand(['run', '-h', '--port', 'x'], {}, noFile)).toEqual({
      kind: 'help',
    });
  });

  it('answers --version even with other arguments; --help wins over it', async () => {
    expect(await resolveCommand(['--version'], {}, noFile)).toEqual({ kind: 'version' });
    expect(await resolveCommand(['run', '--version', '--port', 'x'], {}, noFile)).toEqual({
      kind: 'version',
    });
    expect(await resolveCommand(['--version', '-h'], {}, noFile)).toEqual({ kind: 'help' });
  });

  it.each([
    [[], {}, 'missing command: run'],
    [['start'], {}, "unknown command 'start'"],
    [[...base, 'extra'], {}, "unexpected argument 'extra'"],
    [[...base, '--bogus'], {}, "Unknown option '--bogus'"],
    [[...base, '--port'], {}, "Option '--port <value>' argument missing"],
    [['run', '--endpoint', 'e', '--bucket', 'b'], {}, 'missing --thing'],
    [['run', '--thing', 't', '--bucket', 'b'], {}, 'missing --endpoint'],
    [['run', '--thing', 't', '--endpoint', 'e'], {}, 'missing credentials'],
    [[...base, '--cert', '/c'], {}, '--cert and --key go together'],
    [
      [...base, '--certificate-object-key', 'c'],
      {},
      '--certificate-object-key and --private-key-object-key go together',
    ],
    [[...base, '--protocol', 'mqtt4'], {}, "--protocol must be mqtt5 or mqtt3, not 'mqtt4'"],
    [[...base, '--port', '0'], {}, "--port must be a whole number from 1 to 65535, not '0'"],
    [[...base, '--port', '70000'], {}, 'from 1 to 65535'],
    [[...base, '--count', '-1'], {}, "Option '--count' argument is ambiguous"],
    [[...base, '--count=-1'], {}, "--count must be a whole number from 0 to 1000000, not '-1'"],
    [
      [...base, '--count', '2.5'],
      {},
      "--count must be a whole number from 0 to 1000000, not '2.5'",
    ],
    [[...base, '--interval', 'soon'], {}, '--interval must be a whole number'],
    [[...base, '--window', '0'], {}, "--window must be a whole number from 1 to 100, not '0'"],
    [[...base, '--window', '101'], {}, "--window must be a whole number from 1 to 100, not '101'"],
    [[...base, '--topic', ' '], {}, '--topic must not be empty'],
    [
      [...base, '--credential-check-interval', '99'],
      {},
      "--credential-check-interval must be a whole number from 100 to 86400000, not '99'",
    ],
    [[...base, '--refused-limit', '0'], {}, '--refused-limit must be a whole number from 1 to 100'],
    [base, { THINGCERT_MQTT_PORT: 'abc' }, 'THINGCERT_MQTT_PORT must be a whole number'],
    [base, { THINGCERT_JSON: 'maybe' }, "THINGCERT_JSON must be true or false, not 'maybe'"],
    [base, { THINGCERT_PROTOCOL: 'http' }, '--protocol must be mqtt5 or mqtt3'],
    [[...base, '--config', '/missing.json'], {}, 'cannot read config file /missing.json (ENOENT)'],
  ] as Array<[string[], Record<string, string>, string]>)(
    '%j with env %j is a usage error: %s',
    async (argv, env, message) => {
      await expect(resolveCommand(argv, env, noFile)).rejects.toMatchObject({
        name: 'UsageError',
        message: expect.stringContaining(message) as unknown,
      });
    },
  );

  it.each([
    ['{not json', 'is not valid JSON'],
    ['[1]', 'must hold a JSON object'],
    ['{"colour":"red"}', 'unknown key "colour"'],
    ['{"port":"8883"}', '"port" must be a number'],
    ['{"forever":"yes"}', '"forever" must be a boolean'],
    ['{"thing":5}', '"thing" must be a string'],
    ['{"privateKeyObjectKey":true}', '"privateKeyObjectKey" must be a string'],
    ['{"count":-3}', '"count" in /c.json must be a whole number'],
  ])('rejects config file %s: %s', async (content, message) => {
    await expect(
      resolveCommand([...base, '--config', '/c.json'], {}, files({ '/c.json': content })),
    ).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringContaining(message) as unknown,
    });
  });
});
