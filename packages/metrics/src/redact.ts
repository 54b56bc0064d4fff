/**
 * What a secret is replaced with, in logs, span attributes and URLs. The same word OpenTelemetry's
 * HTTP semantic conventions use for redacted query values (`url.full`).
 */
export const REDACTED = 'REDACTED';

// Deep enough for `{ request: { headers: { authorization } } }` and an error's cause chain;
// deeper structures are cut rather than walked, so a huge or hostile object costs little.
const MAX_DEPTH = 8;

/**
 * A copy of `fields` where every property named like a redacted header (case-insensitive, at any
 * depth) holds {@link REDACTED}. Errors become `{ name, code, message, cause }` (their own
 * properties could carry request options); cycles and anything deeper than 8 levels are cut.
 */
export function redactFields(fields: Readonly<Record<string, unknown>>, redacted: ReadonlySet<string>): Record<string, unknown> {
  const seen = new WeakSet<object>();
  seen.add(fields);
  return redactObject(fields, redacted, 0, seen);
}

function redactValue(value: unknown, redacted: ReadonlySet<string>, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: value.message,
      ...(code === undefined ? {} : { code }),
      ...(value.cause === undefined ? {} : { cause: redactValue(value.cause, redacted, depth + 1, seen) }),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redacted, depth + 1, seen));
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  return redactObject(value as Record<string, unknown>, redacted, depth, seen);
}

function redactObject(
  value: Readonly<Record<string, unknown>>,
  redacted: ReadonlySet<string>,
  depth: number,
  seen: WeakSet<object>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = redacted.has(key.toLowerCase()) ? REDACTED : redactValue(item, redacted, depth + 1, seen);
  }
  return out;
}

/**
 * `path` with every query value replaced by {@link REDACTED} (`/v1?key=REDACTED&b=REDACTED`):
 * query strings carry API keys and signed-URL signatures (OTel semconv `url.full`).
 */
export function redactQuery(path: string): string {
  const q = path.indexOf('?');
  if (q === -1) return path;
  const params = path
    .slice(q + 1)
    .split('&')
    .map((param) => {
      const eq = param.indexOf('=');
      return eq === -1 ? param : `${param.slice(0, eq)}=${REDACTED}`;
    });
  return `${path.slice(0, q)}?${params.join('&')}`;
}
