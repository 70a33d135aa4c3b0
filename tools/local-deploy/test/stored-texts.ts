import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { findSecretLeaks } from '@thingcert/test-support';

/** A text the local cloud holds, and where: an object or a file of its state. */
export interface StoredText {
  readonly where: string;
  readonly text: string;
}

/**
 * Every object of every bucket, read back with `s3` (ListBuckets,
 * ListObjectsV2 page by page, GetObject): what anyone allowed to read the
 * buckets (the admin) can see.
 */
export async function bucketTexts(s3: S3Client): Promise<StoredText[]> {
  const texts: StoredText[] = [];
  const { Buckets } = await s3.send(new ListBucketsCommand({}));
  for (const { Name: bucket } of Buckets ?? []) {
    let ContinuationToken: string | undefined;
    do {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
      for (const { Key: key } of listed.Contents ?? []) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        texts.push({
          where: `s3://${bucket}/${key}`,
          text: await object.Body!.transformToString(),
        });
      }
      ContinuationToken = listed.NextContinuationToken;
    } while (ContinuationToken);
  }
  return texts;
}

/**
 * Every file under `dir` as text: the local cloud's `stateDir` (the IoT
 * registry's JSON, the S3 objects, the CA), what a dump of its state holds.
 */
export function directoryTexts(dir: string): StoredText[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { where: `${relative(dir, path)} in the state`, text: readFileSync(path, 'utf8') };
    });
}

/**
 * 40-character runs that only the secret part of the private key `pem` (its
 * JWK `d`: the EC scalar, the RSA private exponent) can produce, however the
 * key is written down: hex, and base64 and base64url at each of the three
 * byte alignments the secret can have inside a DER structure (PKCS#8, SEC1,
 * PKCS#1 all put it at different offsets). Slices of the PEM body itself
 * would not do: every P-256 PKCS#8 key starts with the same 48 characters,
 * and its public part is in the device's certificate.
 */
export function secretProbes(pem: string): string[] {
  const jwk = createPrivateKey(pem).export({ format: 'jwk' });
  if (jwk.d === undefined) throw new Error('not a private key');
  const secret = Buffer.from(jwk.d, 'base64url');
  const cores = [secret.toString('hex')];
  for (const pad of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(pad), secret]).toString('base64');
    // Only the characters whose 6 bits all come from the secret.
    const core = encoded.slice(
      Math.ceil((pad * 8) / 6),
      Math.floor(((pad + secret.length) * 8) / 6),
    );
    cores.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return cores.flatMap((core) =>
    Array.from({ length: Math.max(1, core.length - 39) }, (_, i) => core.slice(i, i + 40)),
  );
}

/**
 * Where private-key material is in `texts`: the secret of a key of
 * `deviceKeys` (by device name; see {@link secretProbes}) anywhere, and,
 * outside the texts `allowed` accepts (a key that is meant to be there: the
 * claim key in its bucket, the local cloud's own CA key), any PEM private key
 * or long run of base64 ({@link findSecretLeaks}). Places and names only:
 * the report never repeats a key.
 */
export function keyMaterialIn(
  texts: readonly StoredText[],
  deviceKeys: ReadonlyMap<string, string>,
  allowed: (stored: StoredText) => boolean = () => false,
): string[] {
  const probes = [...deviceKeys].map(([name, pem]) => ({ name, probes: secretProbes(pem) }));
  return texts.flatMap((stored) => {
    // PEM lines and JSON-escaped line breaks split a key's base64.
    const flat = stored.text.replace(/\s+|\\[nr]/g, '');
    const found = probes
      .filter(({ probes }) => probes.some((probe) => flat.includes(probe)))
      .map(({ name }) => `${stored.where}: the private key of ${name}`);
    if (!allowed(stored)) {
      const lines = stored.text.split(/\r?\n/);
      for (const leak of findSecretLeaks(stored.text)) {
        found.push(`${stored.where}, line ${lines.indexOf(leak) + 1}: private key material`);
      }
    }
    return found;
  });
}
