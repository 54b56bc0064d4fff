import { describe, expect, it } from 'vitest';
import { sessionLifetimeSeconds } from './session-lifetime.js';

/** DER TLV with a definite length (short or long form). */
function tlv(tag: number, body: Uint8Array): Uint8Array {
  const len = body.length;
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  return Uint8Array.from([...head, ...body]);
}
const int = (n: number) => tlv(0x02, n < 0x80 ? Uint8Array.of(n) : Uint8Array.of(n >> 8, n & 0xff));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 + n, inner);

describe('sessionLifetimeSeconds', () => {
  it('reads the ticket lifetime hint ([9]) of an SSL_SESSION', () => {
    const der = tlv(0x30, concat(int(1), int(0x0304), tlv(0x04, new Uint8Array(2)), explicit(2, int(7200)), explicit(9, int(300))));
    expect(sessionLifetimeSeconds(der)).toBe(300);
  });

  it('falls back to the session timeout ([2]) without a hint, through long-form lengths', () => {
    const der = tlv(0x30, concat(int(1), tlv(0x04, new Uint8Array(300)), explicit(2, int(7200)), explicit(9, int(0))));
    expect(sessionLifetimeSeconds(der)).toBe(7200);
  });

  it('reads the session inside the envelope Node 22 puts around the DER', () => {
    const der = tlv(0x30, concat(int(1), explicit(2, int(7200)), explicit(9, int(60))));
    const envelope = new TextEncoder().encode('\0nodejs:tls:session:1\0\0\tlocalhost');
    expect(sessionLifetimeSeconds(concat(envelope, der))).toBe(60);
  });

  it('returns undefined for anything that is not a readable session', () => {
    expect(sessionLifetimeSeconds(new Uint8Array())).toBeUndefined();
    expect(sessionLifetimeSeconds(Uint8Array.of(0x04, 0x00))).toBeUndefined();
    expect(sessionLifetimeSeconds(Uint8Array.of(0x30, 0x85, 1, 1, 1, 1, 1))).toBeUndefined();
    expect(sessionLifetimeSeconds(Uint8Array.of(0x30, 0x82, 0x01))).toBeUndefined();
    expect(sessionLifetimeSeconds(Uint8Array.of(0x30, 0x10, 0x02))).toBeUndefined();
    expect(sessionLifetimeSeconds(tlv(0x30, concat(int(1), explicit(2, tlv(0x04, Uint8Array.of(1))))))).toBeUndefined();
    expect(sessionLifetimeSeconds(tlv(0x30, concat(int(1), Uint8Array.of(0x02))))).toBeUndefined();
  });
});
