/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3) into milliseconds from `nowWallMs`.
 * Both forms are accepted: `delay-seconds` (`120`) and an HTTP-date (IMF-fixdate, or the
 * obsolete RFC 850 and asctime forms that `Date.parse` also reads). A date in the past gives 0.
 *
 * Hand-written: cockatiel has no notion of HTTP; undici's retry handler parses the same two
 * forms but only inside its own interceptor.
 *
 * @returns milliseconds to wait, or `undefined` when the header is absent or malformed.
 */
export function parseRetryAfterMs(value: string | readonly string[] | undefined, nowWallMs: number): number | undefined {
  const raw = typeof value === 'string' ? value : value?.[0];
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names a weekday and a month; this refuses "1.5", "-3" and other numbers Date.parse accepts.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowWallMs);
}
