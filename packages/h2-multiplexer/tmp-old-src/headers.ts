import type { RequestHeaders, Urgency } from '@berth/core-types';
import { InvalidRequestError } from './errors.js';

/** RFC 9110 §5.6.2 token (lower-case only: HTTP/2 field names must be lower case, RFC 9113 §8.2.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** RFC 9110 §5.5: no CR, LF or NUL in a field value (RFC 9113 §8.2.1). */
const BAD_VALUE = /[\r\n\0]/;
/** Origin-form path or `*` (RFC 9112 §3.2): no whitespace or control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const PATH = /^(\/[^\s\x00-\x1f\x7f]*|\*)$/;
/** RFC 9110 §9.1 method token. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Connection-specific fields an HTTP/2 request must not carry (RFC 9113 §8.2.2); sending one
 * makes the stream malformed, so they are dropped rather than refused (a caller reusing
 * HTTP/1.1 headers should not break).
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Request headers ready for HTTP/2: lower-case names, checked values, `host` lifted to `:authority`. */
export interface NormalizedHeaders {
  /** Field lines to send; mutable so a tracer can add `traceparent` on `berth:request:start`. */
  readonly fields: Record<string, string | string[]>;
  /** `:authority` taken from a `host` header, when the caller gave one. */
  readonly authority: string | undefined;
  /** RFC 9113 §6.5.2 size of `fields` (name + value + 32 per field line), pseudo-headers not included. */
  readonly bytes: number;
}

/** RFC 9113 §6.5.2 (HPACK, RFC 7541 §4.1): each field line counts 32 octets on top of its name and value. */
export const FIELD_OVERHEAD_BYTES = 32;

/** Checks the method and path of a request; throws `ERR_BERTH_INVALID_REQUEST`. */
export function checkTarget(method: string, path: string): void {
  if (!METHOD.test(method)) throw new InvalidRequestError(`invalid HTTP method ${JSON.stringify(method)}`, { method });
  if (!PATH.test(path)) {
    throw new InvalidRequestError(`invalid request path ${JSON.stringify(path)}: expected "/…" without spaces or control characters`, { path });
  }
}

/**
 * Lower-cases names, drops connection-specific fields and `te` other than `trailers`, lifts
 * `host` to `:authority`, and rejects pseudo-headers, non-token names and CR/LF/NUL in values.
 */
export function normalizeHeaders(headers: RequestHeaders | Readonly<Record<string, string | readonly string[]>> | undefined): NormalizedHeaders {
  const fields: Record<string, string | string[]> = {};
  let authority: string | undefined;
  let bytes = 0;
  if (headers === undefined) return { fields, authority, bytes };
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!TOKEN.test(name)) {
      throw new InvalidRequestError(`invalid header name ${JSON.stringify(rawName)}: expected an RFC 9110 token`, { header: rawName });
    }
    const values: readonly string[] = typeof value === 'string' ? [value] : value;
    for (const v of values) {
      if (typeof v !== 'string' || BAD_VALUE.test(v)) {
        throw new InvalidRequestError(`invalid value for header ${JSON.stringify(name)}: CR, LF and NUL are not allowed`, { header: name });
      }
    }
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === 'te') {
      if (values.every((v) => v.trim().toLowerCase() === 'trailers')) {
        fields[name] = 'trailers';
        bytes += 'te'.length + 'trailers'.length + FIELD_OVERHEAD_BYTES;
      }
      continue;
    }
    if (name === 'host') {
      authority = values[0];
      continue;
    }
    fields[name] = typeof value === 'string' ? value : [...values];
    // Code units: field values are visible ASCII in practice (RFC 9110 §5.5), one octet each.
    for (const v of values) bytes += name.length + v.length + FIELD_OVERHEAD_BYTES;
  }
  return { fields, authority, bytes };
}

/** The RFC 9218 §4 `Priority` field value: `u=N` plus `, i` when incremental. */
export function priorityField(urgency: Urgency, incremental: boolean): string {
  return incremental ? `u=${urgency}, i` : `u=${urgency}`;
}
