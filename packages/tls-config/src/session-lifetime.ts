/**
 * Reads how long a TLS session may be resumed from the DER `SSL_SESSION` that Node hands
 * out in the `'session'` event. Node has no API for the ticket lifetime, and OpenSSL's
 * serialization is stable (openssl/ssl/ssl_asn1.c, `SSL_SESSION_ASN1`): a SEQUENCE whose
 * `[2] timeout` and `[9] tlsext_tick_lifetime_hint` are explicitly tagged INTEGERs, in
 * seconds. Hand-written because it is 40 lines and no maintained library parses this one
 * structure; anything unexpected yields `undefined` and the caller's default applies.
 */

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function readTlv(der: Uint8Array, offset: number): Tlv | undefined {
  const tag = der[offset];
  let lengthByte = der[offset + 1];
  if (tag === undefined || lengthByte === undefined) return undefined;
  let start = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) return undefined;
    length = 0;
    for (let i = 0; i < count; i += 1) {
      lengthByte = der[start + i];
      if (lengthByte === undefined) return undefined;
      length = length * 256 + lengthByte;
    }
    start += count;
  }
  const end = start + length;
  return end > der.length ? undefined : { tag, start, end };
}

function readUnsigned(der: Uint8Array, tlv: Tlv): number | undefined {
  const inner = readTlv(der, tlv.start);
  if (inner?.tag !== 0x02 || inner.end - inner.start > 7) return undefined;
  let value = 0;
  for (let i = inner.start; i < inner.end; i += 1) value = value * 256 + (der[i] ?? 0);
  return value;
}

/**
 * Where the DER `SSL_SESSION` starts. Node 20 hands out the bare DER; Node 22 prefixes it
 * with its own envelope (`\0nodejs:tls:session:1\0` and the server name), so look for the
 * SEQUENCE that runs exactly to the end of the buffer.
 */
function derStart(session: Uint8Array): number {
  if (session[0] === 0x30) return 0;
  for (let i = 1; i < Math.min(session.length, 512); i += 1) {
    if (session[i] === 0x30 && readTlv(session, i)?.end === session.length) return i;
  }
  return 0;
}

const TIMEOUT_TAG = 0xa2;
const TICKET_LIFETIME_HINT_TAG = 0xa9;

/**
 * Lifetime of a serialized session in seconds: the ticket lifetime hint (RFC 8446 §4.6.1,
 * RFC 5077 §3.3) when the server sent one, else the session timeout; `undefined` when
 * neither can be read.
 */
export function sessionLifetimeSeconds(session: Uint8Array): number | undefined {
  const outer = readTlv(session, derStart(session));
  if (outer?.tag !== 0x30) return undefined;
  let timeout: number | undefined;
  let hint: number | undefined;
  for (let offset = outer.start; offset < outer.end; ) {
    const tlv = readTlv(session, offset);
    if (tlv === undefined) break;
    if (tlv.tag === TIMEOUT_TAG) timeout = readUnsigned(session, tlv);
    else if (tlv.tag === TICKET_LIFETIME_HINT_TAG) hint = readUnsigned(session, tlv);
    offset = tlv.end;
  }
  if (hint !== undefined && hint > 0) return hint;
  return timeout !== undefined && timeout > 0 ? timeout : undefined;
}
