import { makeKeyPair } from '@thingcert/test-support';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeS3, type FakeObject } from '../test/fake-s3';
import { pointedObjects } from '../test/pointed-objects';
import { tempDirPerTest } from '../test/temp-dir';
import { CredentialPointerWatcher } from './credential-pointer-watcher';
import { fetchPointedCredentials } from './fetch-pointed-credentials';

const first = makeKeyPair('first');
const second = makeKeyPair('second');

describe('Class: CredentialPointerWatcher', () => {
  const workDir = tempDirPerTest('pointer-watcher-');

  /** A watcher started on `first`, with both certificates' objects in the fake bucket. */
  async function setup() {
    const a = pointedObjects('devices', 'thing-1', first);
    const b = pointedObjects('devices', 'thing-1', second);
    const objects: Record<string, FakeObject> = {
      ...a.objects,
      ...b.objects,
      [a.pointerPath]: a.pointer,
    };
    const fake = fakeS3(objects);
    const work = workDir();
    const options = { s3: fake.s3, bucket: 'devices', pointerKey: a.pointerKey, dir: work };
    const current = await fetchPointedCredentials(options);
    fake.requests.length = 0;
    return { a, b, objects, fake, watcher: new CredentialPointerWatcher(options, current) };
  }

  describe('Method: check', () => {
    it('asks with If-None-Match and downloads nothing while S3 answers 304', async () => {
      const { watcher, fake } = await setup();
      expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
      expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
      expect(fake.requests).toEqual([
        {
          path: '/devices/thing-1/current.json',
          ifNoneMatch: watcher.current.pointerEtag,
          status: 304,
        },
        {
          path: '/devices/thing-1/current.json',
          ifNoneMatch: watcher.current.pointerEtag,
          status: 304,
        },
      ]);
    });

    it('answers unchanged for a pointer rewritten with the same certificate, and 304 after', async () => {
      const { watcher, fake, objects, a } = await setup();
      objects[a.pointerPath] = a.pointer.replace('2030-01-01', '2031-01-01');
      expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
      expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
      expect(fake.requests.map((r) => r.status)).toEqual([200, 304]);
    });

    it('downloads and verifies the certificate a changed pointer names, without adopting it', async () => {
      const { watcher, fake, objects, a, b } = await setup();
      objects[a.pointerPath] = b.pointer;
      const result = await watcher.check();
      expect(result).toMatchObject({
        outcome: 'changed',
        credentials: { certificateId: b.id, certPath: join(workDir(), b.id, 'device.pem.crt') },
      });
      expect(watcher.current.certificateId).toBe(a.id);
      expect(fake.requests.map((r) => r.path).sort()).toEqual([
        `/devices/thing-1/certificates/${b.id}/device.pem.crt`,
        `/devices/thing-1/certificates/${b.id}/private.pem.key`,
        '/devices/thing-1/current.json',
      ]);
      // Not adopted: the next look reads the pointer in full again.
      expect((await watcher.check()).outcome).toBe('changed');
    });

    it('keeps the current credentials and gives a one-line reason for an invalid pointer', async () => {
      const { watcher, objects, a } = await setup();
      objects[a.pointerPath] = '{"version":1}';
      const result = await watcher.check();
      expect(result.outcome).toBe('failed');
      const { error } = result as { error: Error & { reason?: string } };
      expect(error).toMatchObject({ name: 'CredentialsError', reason: 'invalid-pointer' });
      expect(error.message).toMatch(
        /^s3:\/\/devices\/thing-1\/current\.json: .*"certificateId" is missing/,
      );
      expect(error.message).not.toContain('\n');
      expect(watcher.current.certificateId).toBe(a.id);
    });

    it('fails without changing anything when the named objects are missing', async () => {
      const { watcher, objects, a, b } = await setup();
      objects[a.pointerPath] = b.pointer;
      delete objects[`/devices/thing-1/certificates/${b.id}/private.pem.key`];
      const result = await watcher.check();
      expect(result).toMatchObject({ outcome: 'failed', error: { reason: 'not-found' } });
      expect(await readdir(workDir())).toEqual([a.id]);
    });

    it('shares one request among checks made while one runs', async () => {
      const { watcher, fake } = await setup();
      const results = await Promise.all([watcher.check(), watcher.check(), watcher.check()]);
      expect(results).toEqual(Array(3).fill({ outcome: 'unchanged' }));
      expect(fake.requests).toHaveLength(1);
    });
  });

  describe('Method: adopt', () => {
    it('makes the new credentials current and removes the old certificate files', async () => {
      const { watcher, fake, objects, a, b } = await setup();
      objects[a.pointerPath] = b.pointer;
      const result = await watcher.check();
      if (result.outcome !== 'changed') throw new Error('expected a change');
      await watcher.adopt(result.credentials);
      expect(watcher.current.certificateId).toBe(b.id);
      expect(await readdir(workDir())).toEqual([b.id]);
      fake.requests.length = 0;
      expect(await watcher.check()).toEqual({ outcome: 'unchanged' });
      expect(fake.requests.map((r) => r.status)).toEqual([304]);
    });
  });
});
