import { describe, expect, it } from 'vitest';
import { awsError, FakeAws } from '../test/fake-aws';
import { CredentialStore } from './credential-store';
import { WriteJournal } from './write-journal';

const PEM = 'application/x-pem-file';
const KEY = 'sensor-1/private.pem.key';
const OLD_BODY = '-----BEGIN PRIVATE KEY-----\nold\n-----END PRIVATE KEY-----\n';
const NEW_BODY = '-----BEGIN PRIVATE KEY-----\nnew\n-----END PRIVATE KEY-----\n';
const neverOurs = { isOurs: () => false };

function setup(options: { kmsKeyId?: string } = {}) {
  const fake = new FakeAws();
  const journal = new WriteJournal(new CredentialStore(fake.s3, 'creds'), {
    contentType: PEM,
    ...options,
  });
  return { fake, journal };
}

/** Writes OLD_BODY as an earlier run would have: SSE-KMS under `alias/old`. */
async function writeOld(fake: FakeAws): Promise<void> {
  await new CredentialStore(fake.s3, 'creds').put(KEY, OLD_BODY, {
    contentType: PEM,
    kmsKeyId: 'alias/old',
  });
}

describe('Class: WriteJournal', () => {
  describe('Method: write', () => {
    it('writes a new key with If-None-Match and records it as created', async () => {
      const { fake, journal } = setup({ kmsKeyId: 'alias/new' });

      await journal.write(KEY, NEW_BODY, neverOurs);

      expect(fake.inputsOf('PutObject')).toEqual([
        expect.objectContaining({ Key: KEY, IfNoneMatch: '*', SSEKMSKeyId: 'alias/new' }),
      ]);
      expect(fake.object(KEY)).toMatchObject({ body: NEW_BODY, contentType: PEM });
      expect(journal.createdKeys).toEqual([KEY]);
      expect(journal.replacedKeys).toEqual([]);
    });

    it('overwrites an existing object with If-Match once the policy allows it', async () => {
      const { fake, journal } = setup();
      await writeOld(fake);
      const etag = fake.object(KEY)?.etag;
      const seen: string[] = [];

      await journal.write(KEY, NEW_BODY, {
        isOurs: () => false,
        assertReplaceable: (existing) => seen.push(existing.body),
      });

      expect(seen).toEqual([OLD_BODY]);
      expect(fake.inputsOf('PutObject').at(-1)).toMatchObject({ Key: KEY, IfMatch: etag });
      expect(fake.object(KEY)?.body).toBe(NEW_BODY);
      expect(journal.replacedKeys).toEqual([KEY]);
      expect(journal.createdKeys).toEqual([]);
    });

    it('leaves an object the policy refuses as it was, and records nothing', async () => {
      const { fake, journal } = setup();
      await writeOld(fake);
      const before = fake.object(KEY);
      const refusal = new Error('belongs to another certificate');

      const error = await journal
        .write(KEY, NEW_BODY, {
          isOurs: () => false,
          assertReplaceable: () => {
            throw refusal;
          },
        })
        .catch((e: unknown) => e);

      expect(error).toBe(refusal);
      expect(fake.object(KEY)).toEqual(before);
      expect(journal.replacedKeys).toEqual([]);
      expect(journal.createdKeys).toEqual([]);
    });

    it('does not keep its own earlier write (a retried PUT that landed) to put back', async () => {
      const { fake, journal } = setup();
      await writeOld(fake);

      await journal.write(KEY, NEW_BODY, { isOurs: (existing) => existing.body === OLD_BODY });

      expect(journal.replacedKeys).toEqual([]);
      expect(journal.createdKeys).toEqual([KEY]);
    });

    it('records a key whose PUT failed without an answer: it may have landed', async () => {
      const { fake, journal } = setup();
      fake.failOn('PutObject', awsError('InternalError', 500));

      await expect(journal.write(KEY, NEW_BODY, neverOurs)).rejects.toMatchObject({
        name: 'InternalError',
      });

      expect(journal.createdKeys).toEqual([KEY]);
    });
  });

  describe('Method: restoreReplaced', () => {
    it('puts the overwritten object back with its content type and SSE-KMS key', async () => {
      const { fake, journal } = setup({ kmsKeyId: 'alias/new' });
      await writeOld(fake);
      const before = fake.object(KEY);
      await journal.write(KEY, NEW_BODY, neverOurs);

      const problems = await journal.restoreReplaced();

      expect(problems).toEqual([]);
      expect(fake.object(KEY)).toEqual(before);
      expect(fake.object(KEY)).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'alias/old' });
    });

    it('names the key it could not put back, never the body', async () => {
      const { fake, journal } = setup();
      await writeOld(fake);
      await journal.write(KEY, NEW_BODY, neverOurs);
      fake.failOn('PutObject', awsError('SlowDown', 503), fake.count('PutObject') + 1);

      const problems = await journal.restoreReplaced();

      expect(problems).toEqual([`restoreObject ${KEY}: SlowDown: SlowDown (injected)`]);
      expect(problems.join('\n')).not.toContain('PRIVATE KEY');
    });
  });

  describe('Method: rollBack', () => {
    it('puts overwritten objects back and deletes the ones that did not exist', async () => {
      const { fake, journal } = setup();
      await writeOld(fake);
      const before = fake.object(KEY);
      await journal.write(KEY, NEW_BODY, neverOurs);
      await journal.write('sensor-1/public.pem.key', 'public', neverOurs);

      const problems = await journal.rollBack();

      expect(problems).toEqual([]);
      expect(fake.keys()).toEqual([KEY]);
      expect(fake.object(KEY)).toEqual(before);
      expect(fake.inputsOf('DeleteObjects')).toEqual([
        expect.objectContaining({
          Delete: { Objects: [{ Key: 'sensor-1/public.pem.key' }], Quiet: true },
        }),
      ]);
    });

    it('reports a delete that failed after putting back what it could', async () => {
      const { fake, journal } = setup();
      await journal.write(KEY, NEW_BODY, neverOurs);
      fake.failOn('DeleteObjects', awsError('InternalError', 500));

      const problems = await journal.rollBack();

      expect(problems).toEqual(['deleteObjects: InternalError: InternalError (injected)']);
    });

    it('leaves the object at a key whose PUT was refused (another certificate kept its pointer)', async () => {
      const { fake, journal } = setup();
      await writeOld(fake);
      const before = fake.object(KEY);
      // Refused before If-None-Match was evaluated: what was there stays.
      fake.failOn('PutObject', awsError('AccessDenied', 403), fake.count('PutObject') + 1);
      await expect(journal.write(KEY, NEW_BODY, neverOurs)).rejects.toMatchObject({
        name: 'AccessDenied',
      });

      const problems = await journal.rollBack();

      expect(problems).toEqual([]);
      expect(fake.object(KEY)).toEqual(before);
      expect(fake.count('DeleteObjects')).toBe(0);
    });

    it('deletes a key whose PUT landed though its answer was lost', async () => {
      const { fake, journal } = setup();
      await journal.write('sensor-1/public.pem.key', 'public', neverOurs);
      // The PUT lands, then its answer is lost.
      fake.failOn('PutObject', awsError('InternalError', 500), fake.count('PutObject') + 1);
      await expect(journal.write(KEY, NEW_BODY, neverOurs)).rejects.toMatchObject({
        name: 'InternalError',
      });
      fake.seed(KEY, NEW_BODY);

      expect(await journal.rollBack()).toEqual([]);

      expect(fake.keys()).toEqual([]);
    });

    it('does nothing when nothing was written', async () => {
      const { fake, journal } = setup();

      expect(await journal.rollBack()).toEqual([]);
      expect(fake.count('PutObject') + fake.count('DeleteObjects')).toBe(0);
    });
  });
});
