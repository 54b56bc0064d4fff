import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1, plus `keep-alive`, `proxy-connection` and `te` as in
 * RFC 2616 §13.5.1 and every proxy since): they describe one connection and must not be
 * forwarded. `host` is dropped too: Berth sets the upstream's authority itself. HTTP/2
 * forbids all of them (RFC 9113 §8.2.2), so forwarding one to an h2 region would be a
 * protocol error.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Field names the `Connection` header lists (they are hop-by-hop for this message too). */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    joined
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t.length > 0),
  );
}

/** Request headers to forward upstream: hop-by-hop and `host` removed, HTTP/2 pseudo-headers never present. */
export function forwardRequestHeaders(headers: IncomingHttpHeaders, clientAddress: string | undefined): Record<string, string | string[]> {
  const listed = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name.startsWith(':')) continue;
    // `host`: Berth sets the upstream's authority. `expect`: Node already answered
    // `100-continue` to the client, and undici refuses requests that carry it.
    if (name === 'host' || name === 'expect') continue;
    out[name] = value;
  }
  if (clientAddress !== undefined) {
    // De-facto standard; RFC 7239 `Forwarded` would need quoting of IPv6 addresses.
    const prior = headers['x-forwarded-for'];
    out['x-forwarded-for'] = prior === undefined ? clientAddress : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${clientAddress}`;
  }
  return out;
}

/** Response headers to send back to the client: hop-by-hop removed. */
export function forwardResponseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): OutgoingHttpHeaders {
  const listed = connectionTokens(headers['connection']);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name.startsWith(':')) continue;
    out[name] = value;
  }
  return out;
}
