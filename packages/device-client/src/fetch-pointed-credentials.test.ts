import { findSecretLeaks, makeKeyPair } from '@thingcert/test-support';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeS3 } from '../test/fake-s3';
import { caught, modeOf, tempDirPerTest } from '../test/temp-dir';
import { pointedObjects } from '../test/pointed-objects';
import { fetchPointedCredentials } from './fetch-pointed-credentials';

const pair = makeKeyPair('pointed');
const other = makeKeyPair('other');

describe('Function: fetchPointedCredentials', () => {
  const workDir = tempDirPerTest('fetch-pointed-');

  /** What fetching through `thing-1/current.json` of a bucket holding `objects` rejects with. */
  function refusal(objects: Record<string, string>) {
    const { s3, requested } = fakeS3(objects);
    const error = caught(
      fetchPointedCredentials({
        s3,
        bucket: 'devices',
        pointerKey: 'thing-1/current.json',
        dir: workDir(),
      }),
    );
    return { error, requested };
  }

  it('reads the pointer, then the pair it names, into <dir>/<id>/ (0700, files 0600)', async () => {
    const current = pointedObjects('devices', 'thing-1', pair);
    const { s3, requested } = fakeS3({
      ...current.objects,
      [current.pointerPath]: current.pointer,
    });
    const dir = join(workDir(), 'credentials');
    const previous = process.umask(0);
    try {
      const result = await fetchPointedCredentials({
        s3,
        bucket: 'devices',
        pointerKey: current.pointerKey,
        dir,
      });
      expect(result).toMatchObject({
        certificateId: current.id,
        certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${current.id}`,
        certPath: join(dir, current.id, 'device.pem.crt'),
        keyPath: join(dir, current.id, 'private.pem.key'),
        caPath: undefined,
        pointerEtag: expect.stringMatching(/^"[0-9a-f]{32}"$/) as unknown,
      });
      expect(await readFile(result.keyPath, 'utf8')).toBe(pair.privateKeyPem);
      expect(await readFile(result.certPath, 'utf8')).toBe(pair.certificatePem);
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(join(dir, current.id))).toBe(0o700);
      expect(await modeOf(result.keyPath)).toBe(0o600);
      expect(await modeOf(result.certPath)).toBe(0o600);
      // Nothing else left in the directory: no staging leftovers.
      expect(await readdir(dir)).toEqual([current.id]);
      expect(requested[0]).toBe('/devices/thing-1/current.json');
    } finally {
      process.umask(previous);
    }
  });

  it('replaces an earlier copy of the same certificate as a whole', async () => {
    const current = pointedObjects('devices', 'thing-1', pair);
    const { s3 } = fakeS3({ ...current.objects, [current.pointerPath]: current.pointer });
    const options = { s3, bucket: 'devices', pointerKey: current.pointerKey, dir: workDir() };
    await fetchPointedCredentials(options);
    const again = await fetchPointedCredentials(options);
    expect(await readFile(again.keyPath, 'utf8')).toBe(pair.privateKeyPem);
    expect(await readdir(workDir())).toEqual([current.id]);
  });

  it('refuses a certificate and key that are not one pair, writing nothing', async () => {
    const current = pointedObjects('devices', 'thing-1', pair);
    const objects = { ...current.objects, [current.pointerPath]: current.pointer };
    objects[`/devices/thing-1/certificates/${current.id}/private.pem.key`] = other.privateKeyPem;
    const error = await refusal(objects).error;
    expect(error.name).toBe('CertificateKeyMismatchError');
    expect(await readdir(workDir())).toEqual([]);
    expect(findSecretLeaks(error.message, [other.privateKeyPem, pair.privateKeyPem])).toEqual([]);
  });

  it('refuses a certificate whose SHA-256 is not the id the pointer names', async () => {
    const current = pointedObjects('devices', 'thing-1', pair);
    const swapped = pointedObjects('devices', 'thing-1', other);
    // The pointer names `pair`'s id, but its objects hold `other` (a matching pair).
    const { error: rejection } = refusal({
      [current.pointerPath]: current.pointer,
      [`/devices/thing-1/certificates/${current.id}/device.pem.crt`]: other.certificatePem,
      [`/devices/thing-1/certificates/${current.id}/private.pem.key`]: other.privateKeyPem,
    });
    const error = await rejection;
    expect(error).toMatchObject({ name: 'CredentialsError', reason: 'invalid-pointer' });
    expect(error.message).toContain(`names certificate ${current.id}`);
    expect(error.message).toContain(`is certificate ${swapped.id}`);
    expect(await readdir(workDir())).toEqual([]);
  });

  it.each([
    ['not JSON', '{"version":', 'not JSON'],
    ['another version', JSON.stringify({ version: 2 }), 'version 2 is not 1'],
    [
      'no objects',
      JSON.stringify({ version: 1, certificateId: 'a', certificateArn: 'b', updatedAt: 'c' }),
      '"objects.certificate" is missing',
    ],
  ])('refuses a pointer that is %s with a one-line reason', async (_what, body, reason) => {
    const { error, requested } = refusal({ '/devices/thing-1/current.json': body });
    await expect(error).resolves.toMatchObject({
      name: 'CredentialsError',
      reason: 'invalid-pointer',
      message: expect.stringMatching(/^s3:\/\/devices\/thing-1\/current\.json: [^\n]+$/) as unknown,
    });
    expect((await error).message).toContain(reason);
    expect(requested).toEqual(['/devices/thing-1/current.json']);
  });

  it('refuses a certificate id that is not 64 hex digits before it becomes a path', async () => {
    const current = pointedObjects('devices', 'thing-1', pair);
    const body = current.pointer.replace(current.id, '../../etc');
    const { error } = refusal({ ...current.objects, [current.pointerPath]: body });
    await expect(error).resolves.toMatchObject({
      name: 'CredentialsError',
      reason: 'invalid-pointer',
      message: expect.stringContaining('not 64 hex digits') as unknown,
    });
  });

  it('says the pointer is missing, naming it, when there is none', async () => {
    await expect(refusal({}).error).resolves.toMatchObject({
      name: 'CredentialsError',
      reason: 'not-found',
      message: expect.stringContaining(
        's3://devices/thing-1/current.json does not exist',
      ) as unknown,
    });
  });
});
