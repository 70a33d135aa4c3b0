import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findSecretLeaks, makeKeyPair } from '@thingcert/test-support';
import { fakeS3 } from '../test/fake-s3';
import { caught, modeOf } from '../test/temp-dir';
import { fetchCredentials, loadCredentialFiles } from './fetch-credentials';

const pair = makeKeyPair();
const other = makeKeyPair('other');
/** AWS IoT's certificate id: SHA-256 of the DER, here from Node's own fingerprint. */
const pairId = new X509Certificate(pair.certificatePem).fingerprint256
  .replace(/:/g, '')
  .toLowerCase();

// Over 150 lines on purpose: one describe per unit under test keeps every case's
// full name and its shared fixtures in one place; each `it` stays short.
describe('Function: fetchCredentials', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'fetch-credentials-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const objects = {
    '/devices/thing-1/device.pem.crt': pair.certificatePem,
    '/devices/thing-1/private.pem.key': pair.privateKeyPem,
    '/devices/thing-1/AmazonRootCA1.pem': 'CA PEM',
  };

  it('writes cert and key into a new 0700 directory as 0600 files', async () => {
    const { s3, requested } = fakeS3(objects);
    const dir = join(work, 'nested', 'thing-1');
    const previous = process.umask(0);
    try {
      const result = await fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir });
      expect(result).toEqual({
        certPath: join(dir, 'device.pem.crt'),
        keyPath: join(dir, 'private.pem.key'),
        caPath: undefined,
        certificateId: pairId,
      });
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(result.keyPath)).toBe(0o600);
      expect(await modeOf(result.certPath)).toBe(0o600);
      expect(await readFile(result.keyPath, 'utf8')).toBe(pair.privateKeyPem);
      expect(await readFile(result.certPath, 'utf8')).toBe(pair.certificatePem);
      expect(requested.sort()).toEqual([
        '/devices/thing-1/device.pem.crt',
        '/devices/thing-1/private.pem.key',
      ]);
    } finally {
      process.umask(previous);
    }
  });

  it('honours keyPrefix, custom object names and an optional root CA', async () => {
    const { s3 } = fakeS3({
      '/devices/fleet/thing-1/cert.pem': pair.certificatePem,
      '/devices/fleet/thing-1/key.pem': pair.privateKeyPem,
      '/devices/fleet/thing-1/ca.pem': 'CA PEM',
    });
    const result = await fetchCredentials({
      s3,
      bucket: 'devices',
      thing: 'thing-1',
      dir: join(work, 'c'),
      keyPrefix: 'fleet/',
      objects: { certificate: 'cert.pem', privateKey: 'key.pem', rootCa: 'ca.pem' },
    });
    expect(result.caPath).toBe(join(work, 'c', 'root-ca.pem'));
    expect(await readFile(result.caPath!, 'utf8')).toBe('CA PEM');
    expect(await modeOf(result.caPath!)).toBe(0o600);
  });

  it('fetches exactly the object keys it is given, wherever they are', async () => {
    const { s3, requested } = fakeS3({
      '/devices/elsewhere/c.pem': pair.certificatePem,
      '/devices/other/k.pem': pair.privateKeyPem,
    });
    const result = await fetchCredentials({
      s3,
      bucket: 'devices',
      thing: 'thing-1',
      dir: join(work, 'k'),
      keyPrefix: 'ignored/',
      objectKeys: { certificate: 'elsewhere/c.pem', privateKey: 'other/k.pem' },
    });
    expect(requested.sort()).toEqual(['/devices/elsewhere/c.pem', '/devices/other/k.pem']);
    expect(await readFile(result.keyPath, 'utf8')).toBe(pair.privateKeyPem);
    expect(await readFile(result.certPath, 'utf8')).toBe(pair.certificatePem);
  });

  it('replaces existing files by rename and leaves no temporary file behind', async () => {
    const dir = join(work, 'thing-1');
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, 'private.pem.key'), other.privateKeyPem, { mode: 0o600 });
    const before = (await stat(join(dir, 'private.pem.key'))).ino;
    const { s3 } = fakeS3(objects);

    const result = await fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir });

    expect((await stat(result.keyPath)).ino).not.toBe(before);
    expect(await readFile(result.keyPath, 'utf8')).toBe(pair.privateKeyPem);
    expect((await readdir(dir)).sort()).toEqual(['device.pem.crt', 'private.pem.key']);
  });

  it('refuses an existing key file readable by others, naming it and the chmod fix', async () => {
    const dir = join(work, 'thing-1');
    await mkdir(dir, { mode: 0o700 });
    const keyPath = join(dir, 'private.pem.key');
    await writeFile(keyPath, other.privateKeyPem);
    await chmod(keyPath, 0o644);
    const { s3, requested } = fakeS3(objects);

    const error = await caught(fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir }));

    expect(error).toMatchObject({
      name: 'InsecureKeyFileError',
      path: keyPath,
      fix: `chmod 600 ${keyPath}`,
    });
    expect(error.message).toContain(keyPath);
    expect(error.message).toContain(`chmod 600 ${keyPath}`);
    expect(requested).toEqual([]);
    expect(await readFile(keyPath, 'utf8')).toBe(other.privateKeyPem);
  });

  it('refuses an existing credentials directory open to group or others', async () => {
    const dir = join(work, 'open');
    await mkdir(dir);
    await chmod(dir, 0o755);
    const { s3 } = fakeS3(objects);
    await expect(
      fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir }),
    ).rejects.toMatchObject({ name: 'InsecureKeyFileError', fix: `chmod 700 ${dir}` });
  });

  it('refuses a certificate and key that do not belong together, writing nothing', async () => {
    const { s3 } = fakeS3({
      '/devices/thing-1/device.pem.crt': pair.certificatePem,
      '/devices/thing-1/private.pem.key': other.privateKeyPem,
    });
    const dir = join(work, 'thing-1');
    const error = await caught(fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir }));
    expect(error.name).toBe('CertificateKeyMismatchError');
    expect(error.message).toContain('s3://devices/thing-1/private.pem.key');
    expect(await readdir(dir)).toEqual([]);
    expect(
      findSecretLeaks(`${error.message}\n${error.stack ?? ''}`, [other.privateKeyPem]),
    ).toEqual([]);
  });

  it.each([
    [{ status: 404, code: 'NoSuchKey' }, 'not-found', 'does not exist'],
    [{ status: 403, code: 'AccessDenied' }, 'access-denied', 's3:GetObject'],
    [{ status: 404, code: 'NoSuchBucket' }, 'no-such-bucket', 'check --bucket'],
  ])('explains S3 error %j as reason %s', async (failure, reason, hint) => {
    const { s3 } = fakeS3({
      '/devices/thing-1/device.pem.crt': failure,
      '/devices/thing-1/private.pem.key': pair.privateKeyPem,
    });
    const error = await caught(
      fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir: join(work, 'x') }),
    );
    expect(error).toMatchObject({
      name: 'CredentialsError',
      reason,
      location: 's3://devices/thing-1/device.pem.crt',
    });
    expect(error.message).toContain(hint);
  });

  it('rejects an object that is not a PEM key without echoing it', async () => {
    const garbage = 'not-a-key-but-secret-looking-0123456789abcdef';
    const { s3 } = fakeS3({
      '/devices/thing-1/device.pem.crt': pair.certificatePem,
      '/devices/thing-1/private.pem.key': garbage,
    });
    const error = await caught(
      fetchCredentials({ s3, bucket: 'devices', thing: 'thing-1', dir: join(work, 'x') }),
    );
    expect(error).toMatchObject({ name: 'CredentialsError', reason: 'invalid-pem' });
    expect(error.message).not.toContain(garbage);
  });
});

describe('Function: loadCredentialFiles', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'load-credentials-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function files(cert: string, key: string, keyMode = 0o600) {
    const certPath = join(work, 'device.pem.crt');
    const keyPath = join(work, 'private.pem.key');
    await writeFile(certPath, cert);
    await writeFile(keyPath, key);
    await chmod(keyPath, keyMode);
    return { certPath, keyPath };
  }

  it('accepts a matching pair with a private key file', async () => {
    const paths = await files(pair.certificatePem, pair.privateKeyPem);
    await expect(loadCredentialFiles(paths)).resolves.toEqual({
      ...paths,
      caPath: undefined,
      certificateId: pairId,
    });
  });

  it('refuses a group-readable key file', async () => {
    const paths = await files(pair.certificatePem, pair.privateKeyPem, 0o640);
    await expect(loadCredentialFiles(paths)).rejects.toMatchObject({
      name: 'InsecureKeyFileError',
      fix: `chmod 600 ${paths.keyPath}`,
    });
  });

  it('refuses a mismatched pair', async () => {
    const paths = await files(pair.certificatePem, other.privateKeyPem);
    await expect(loadCredentialFiles(paths)).rejects.toMatchObject({
      name: 'CertificateKeyMismatchError',
    });
  });

  it('names a missing key file and a missing CA file', async () => {
    await expect(
      loadCredentialFiles({ certPath: join(work, 'c'), keyPath: join(work, 'missing.key') }),
    ).rejects.toMatchObject({ name: 'CredentialsError', location: join(work, 'missing.key') });
    const paths = await files(pair.certificatePem, pair.privateKeyPem);
    await expect(
      loadCredentialFiles({ ...paths, caPath: join(work, 'nope.pem') }),
    ).rejects.toMatchObject({ name: 'CredentialsError', reason: 'unreadable-file' });
  });
});
