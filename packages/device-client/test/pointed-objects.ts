import {
  certificateObjectKeys,
  credentialPointerKey,
  serializeCredentialPointer,
} from '@thingcert/contracts';
import type { TestKeyPair } from '@thingcert/test-support';
import { X509Certificate } from 'node:crypto';

/** AWS IoT's id of a certificate, computed apart from the code under test (Node's fingerprint). */
export function idOf(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/**
 * What the provisioner writes for one certificate of `thing`, as fake-S3
 * paths (`/<bucket>/<key>`): its objects under `certificates/<id>/` and the
 * pointer body naming them (assign it to `pointerPath` to "rotate").
 */
export function pointedObjects(
  bucket: string,
  thing: string,
  pair: TestKeyPair,
): {
  readonly id: string;
  readonly pointerKey: string;
  readonly pointerPath: string;
  readonly pointer: string;
  readonly objects: Record<string, string>;
} {
  const id = idOf(pair.certificatePem);
  const keys = certificateObjectKeys({ thingName: thing }, id);
  const pointerKey = credentialPointerKey({ thingName: thing });
  return {
    id,
    pointerKey,
    pointerPath: `/${bucket}/${pointerKey}`,
    pointer: serializeCredentialPointer({
      version: 1,
      certificateId: id,
      certificateArn: `arn:aws:iot:us-east-1:000000000000:cert/${id}`,
      objects: keys,
      updatedAt: '2030-01-01T00:00:00.000Z',
    }),
    objects: {
      [`/${bucket}/${keys.certificate}`]: pair.certificatePem,
      [`/${bucket}/${keys.privateKey}`]: pair.privateKeyPem,
    },
  };
}
