/**
 * The handful of DER (ASN.1 Distinguished Encoding Rules) encoders a PKCS #10
 * certificate signing request needs. Written here instead of pulling in an
 * ASN.1 library: the Lambda and device runner bundles stay small and the surface is tiny.
 */

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV with the given tag byte around `content`. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

/** SEQUENCE of the given encoded elements. */
export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);

/** SET of the given encoded elements (callers pass them already in DER order). */
export const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);

/** A small non-negative INTEGER. */
export function integer(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

/** OBJECT IDENTIFIER from dotted notation, e.g. `2.5.4.3`. */
export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTF8String. */
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

/** NULL. */
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);

/** BIT STRING with no unused bits. */
export const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.from([0]), bytes);

/** Context-specific constructed tag `[n]`. */
export const contextConstructed = (n: number, ...items: Buffer[]): Buffer =>
  tlv(0xa0 | n, ...items);

/** Wraps DER bytes in PEM armour with the given label. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** DER bytes of the first PEM block in `pem`, or `undefined` if there is none. */
export function fromPem(pem: string): Buffer | undefined {
  const match = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(pem);
  if (!match?.[1]) return undefined;
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}
