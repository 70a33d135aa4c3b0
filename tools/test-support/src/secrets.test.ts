import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findSecretLeaks } from './secrets';

describe('findSecretLeaks', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('flags a PEM header and a JSON-escaped key body', () => {
    const body = pem.split('\n')[1]!;
    const log = ['{"msg":"ok"}', `{"key":"${body}"}`, pem.split('\n')[0]!].join('\n');
    expect(findSecretLeaks(log, [pem])).toHaveLength(2);
  });

  it('finds a 40-character fragment cut at any offset', () => {
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    expect(findSecretLeaks(`leak: ${body.slice(7, 47)}`, [pem])).toHaveLength(1);
  });

  it('passes clean logs', () => {
    expect(findSecretLeaks('{"certificateArn":"arn:aws:iot:us-east-1:1:cert/abc"}', [pem])).toEqual(
      [],
    );
  });
});
