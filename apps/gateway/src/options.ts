import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, OptionChecker } from '@berth/core-types';
import type { ConfigProblem } from '@berth/core-types';
import type { BerthConfig } from 'berth';

/** Inbound limits, applied before anything is forwarded. */
export interface GatewayLimits {
  /** Largest request body accepted, in bytes (413 beyond it, checked while streaming). Default 10 MiB. */
  readonly maxBodyBytes?: number;
  /** Largest request head (request line + headers), in bytes; Node answers 431 beyond it. Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** Most request header fields accepted (431 beyond it). Default 100. */
  readonly maxHeaderCount?: number;
  /** Milliseconds from receiving a request until the upstream's response head (504 beyond it); also the inbound request-receive deadline. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** Requests one client address may have in flight at once (429 beyond it). Default 64. */
  readonly maxConcurrentPerClient?: number;
}

/** One upstream: a Berth client configuration (everything but `metrics`, which the gateway owns). */
export type UpstreamConfig = Omit<BerthConfig, 'metrics' | 'logger' | 'clock' | 'random'>;

/** The gateway's configuration file (JSON or YAML), before env overrides. */
export interface GatewayConfig {
  /** Interface to listen on. Default `127.0.0.1` (a sidecar gateway is for local clients only). */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Inbound limits. */
  readonly limits?: GatewayLimits;
  /** Milliseconds SIGTERM waits for in-flight requests before cutting them. Default 10 000. */
  readonly shutdownTimeoutMs?: number;
  /** Serve Berth's Prometheus metrics on `/metrics`. Default true. */
  readonly metrics?: boolean;
  /** Upstreams by name: `http://host:port/<name>/<path>` is forwarded to that upstream's regions. */
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
}

/** The configuration after defaults, env overrides and validation. */
export interface ResolvedGatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly limits: Required<GatewayLimits>;
  readonly shutdownTimeoutMs: number;
  readonly metrics: boolean;
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
}

/** Default body limit: large enough for JSON APIs, small enough to bound memory per client. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Node's own default `maxHeaderSize` (16 KiB). */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Default header count limit, well below Node's 2000 (`server.maxHeadersCount`). */
export const DEFAULT_MAX_HEADER_COUNT = 100;
/** Default deadline until the upstream's response head. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default per-client concurrency. */
export const DEFAULT_MAX_CONCURRENT_PER_CLIENT = 64;
/** Default SIGTERM drain window, below Kubernetes' 30 s termination grace period. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Default port. */
export const DEFAULT_PORT = 8080;

/** Paths the gateway answers itself; no upstream may take these names. */
export const RESERVED_NAMES: readonly string[] = ['metrics', 'healthz', 'readyz', 'stats'];

const UPSTREAM_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Env variable → config path. Numbers are parsed; anything not a number is reported by variable name. */
const ENV_NUMBERS: ReadonlyArray<readonly [string, string]> = [
  ['BERTH_GATEWAY_PORT', 'port'],
  ['BERTH_GATEWAY_MAX_BODY_BYTES', 'limits.maxBodyBytes'],
  ['BERTH_GATEWAY_MAX_HEADER_BYTES', 'limits.maxHeaderBytes'],
  ['BERTH_GATEWAY_MAX_HEADER_COUNT', 'limits.maxHeaderCount'],
  ['BERTH_GATEWAY_REQUEST_TIMEOUT_MS', 'limits.requestTimeoutMs'],
  ['BERTH_GATEWAY_MAX_CONCURRENT_PER_CLIENT', 'limits.maxConcurrentPerClient'],
  ['BERTH_GATEWAY_SHUTDOWN_TIMEOUT_MS', 'shutdownTimeoutMs'],
];

/** Prefix of the per-upstream origin override: `BERTH_GATEWAY_UPSTREAM_<NAME>_ORIGIN`. */
const ENV_UPSTREAM = /^BERTH_GATEWAY_UPSTREAM_([A-Z0-9_]+)_ORIGIN$/;

type Env = Readonly<Record<string, string | undefined>>;
type Mutable = Record<string, unknown>;

/** A config object before validation: the known fields, each still `unknown`. */
interface RawConfig {
  host?: unknown;
  port?: unknown;
  limits?: unknown;
  shutdownTimeoutMs?: unknown;
  metrics?: unknown;
  upstreams?: unknown;
  [field: string]: unknown;
}

/** One upstream before validation. */
interface RawUpstream {
  regions?: unknown;
  tls?: unknown;
  [field: string]: unknown;
}

/** Limits before validation. */
interface RawLimits {
  maxBodyBytes?: unknown;
  maxHeaderBytes?: unknown;
  maxHeaderCount?: unknown;
  requestTimeoutMs?: unknown;
  maxConcurrentPerClient?: unknown;
  [field: string]: unknown;
}

function isObject(value: unknown): value is Mutable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Applies env overrides on top of the file's values. Every variable it knows is listed in the
 * README; an env value that is not a number where one is expected is a problem named after
 * the variable, so the operator sees which variable to fix.
 */
function applyEnv(input: RawConfig, env: Env, problems: ConfigProblem[]): RawConfig {
  const out: RawConfig = { ...input, limits: isObject(input.limits) ? { ...input.limits } : input.limits };
  const set = (path: string, value: unknown) => {
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail === undefined) out[head] = value;
    else out[head] = { ...(isObject(out[head]) ? out[head] : {}), [tail]: value };
  };
  for (const [name, path] of ENV_NUMBERS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!/^\s*-?\d+(\.\d+)?\s*$/.test(raw) || !Number.isFinite(value)) {
      problems.push({ path: `${name} (${path})`, expected: 'a number', received: JSON.stringify(raw) });
      continue;
    }
    set(path, value);
  }
  const host = env['BERTH_GATEWAY_HOST'];
  if (host !== undefined && host !== '') out.host = host;
  const metrics = env['BERTH_GATEWAY_METRICS'];
  if (metrics !== undefined && metrics !== '') {
    if (metrics === 'true' || metrics === '1') out.metrics = true;
    else if (metrics === 'false' || metrics === '0') out.metrics = false;
    else problems.push({ path: 'BERTH_GATEWAY_METRICS (metrics)', expected: 'true, false, 1 or 0', received: JSON.stringify(metrics) });
  }
  const upstreams: Mutable = isObject(input.upstreams) ? { ...input.upstreams } : {};
  let touched = false;
  for (const [name, raw] of Object.entries(env)) {
    const match = ENV_UPSTREAM.exec(name);
    if (match?.[1] === undefined || raw === undefined || raw === '') continue;
    const wanted = match[1].toLowerCase();
    // Env names cannot carry `-` or `.`: match the configured upstream they stand for.
    const key = Object.keys(upstreams).find((k) => k.replace(/[.-]/g, '_') === wanted) ?? wanted;
    const current = upstreams[key];
    const base: RawUpstream = isObject(current) ? { ...current } : {};
    // An origin override replaces the regions: the variable names one origin.
    delete base.regions;
    upstreams[key] = { ...base, origin: raw };
    touched = true;
  }
  if (touched) out.upstreams = upstreams;
  return out;
}

/**
 * Resolves a gateway configuration: env overrides on top of `input`, defaults, and validation
 * of every gateway field at once (`ERR_BERTH_CONFIG`, each problem naming its field or env
 * variable). Each upstream's own Berth options are validated by `createBerth` when the gateway
 * is created, their problems reported under `upstreams.<name>.`.
 */
export function resolveGatewayConfig(input: unknown, env: Env = {}): ResolvedGatewayConfig {
  const envProblems: ConfigProblem[] = [];
  if (!isObject(input)) throw new ConfigError('gateway', [{ path: '(config)', expected: 'an object', received: String(input) }]);
  const raw = applyEnv(input, env, envProblems);
  const c = new OptionChecker('gateway');
  const host = c.string('host', raw.host, '127.0.0.1');
  const port = c.number('port', raw.port, { min: 0, max: 65_535, integer: true, default: DEFAULT_PORT });
  const limitsInput: RawLimits = isObject(raw.limits) ? raw.limits : {};
  if (raw.limits !== undefined && !isObject(raw.limits)) c.problem('limits', 'an object', raw.limits);
  const limits: Required<GatewayLimits> = {
    maxBodyBytes: c.number('limits.maxBodyBytes', limitsInput.maxBodyBytes, { min: 0, integer: true, default: DEFAULT_MAX_BODY_BYTES }),
    maxHeaderBytes: c.number('limits.maxHeaderBytes', limitsInput.maxHeaderBytes, {
      min: 1024,
      max: 1024 * 1024,
      integer: true,
      default: DEFAULT_MAX_HEADER_BYTES,
    }),
    maxHeaderCount: c.number('limits.maxHeaderCount', limitsInput.maxHeaderCount, {
      min: 1,
      max: 2000,
      integer: true,
      default: DEFAULT_MAX_HEADER_COUNT,
    }),
    requestTimeoutMs: c.number('limits.requestTimeoutMs', limitsInput.requestTimeoutMs, {
      min: 1,
      integer: true,
      default: DEFAULT_REQUEST_TIMEOUT_MS,
    }),
    maxConcurrentPerClient: c.number('limits.maxConcurrentPerClient', limitsInput.maxConcurrentPerClient, {
      min: 1,
      integer: true,
      default: DEFAULT_MAX_CONCURRENT_PER_CLIENT,
    }),
  };
  for (const key of Object.keys(limitsInput)) {
    if (!(key in limits)) c.problem(`limits.${key}`, `one of ${Object.keys(limits).join(', ')}`, key);
  }
  const shutdownTimeoutMs = c.number('shutdownTimeoutMs', raw.shutdownTimeoutMs, {
    min: 0,
    integer: true,
    default: DEFAULT_SHUTDOWN_TIMEOUT_MS,
  });
  const metrics = c.boolean('metrics', raw.metrics, true);
  const upstreams: Record<string, UpstreamConfig> = {};
  if (!isObject(raw.upstreams) || Object.keys(raw.upstreams).length === 0) {
    c.problem('upstreams', 'a non-empty map of upstream name to Berth options ({ origin } or { regions })', raw.upstreams);
  } else {
    for (const [name, upstream] of Object.entries(raw.upstreams)) {
      if (!UPSTREAM_NAME.test(name)) {
        c.problem(`upstreams.${name}`, 'a name of lower-case letters, digits, ".", "_" or "-" (a URL path segment)', name);
      } else if (RESERVED_NAMES.includes(name)) {
        c.problem(`upstreams.${name}`, `a name other than ${RESERVED_NAMES.join(', ')} (the gateway's own endpoints)`, name);
      }
      if (!isObject(upstream)) {
        c.problem(`upstreams.${name}`, 'an object of Berth options', upstream);
        continue;
      }
      for (const owned of ['metrics', 'logger', 'clock', 'random']) {
        const value = upstream[owned];
        if (value !== undefined) {
          c.problem(`upstreams.${name}.${owned}`, 'nothing (the gateway sets it for every upstream)', value);
        }
      }
      upstreams[name] = upstream;
    }
  }
  const known = ['host', 'port', 'limits', 'shutdownTimeoutMs', 'metrics', 'upstreams'];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) c.problem(key, `a known field (${known.join(', ')})`, key);
  }
  const problems = [...envProblems, ...c.problems];
  if (problems.length > 0) throw new ConfigError('gateway', problems);
  return { host, port, limits, shutdownTimeoutMs, metrics, upstreams };
}

/**
 * Reads a config file: YAML for `.yaml`/`.yml`, JSON otherwise. Relative `tls.caFiles` paths
 * are resolved against the file's directory, so a config and its CA can travel together.
 * A file that cannot be read or parsed is an `ERR_BERTH_CONFIG` naming the file.
 */
export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('gateway', [{ path: '(file)', expected: 'a readable config file', received: `${path}: ${String(error)}` }]);
  }
  let parsed: unknown;
  try {
    const ext = extname(path).toLowerCase();
    parsed = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError('gateway', [
      { path: '(file)', expected: 'valid JSON or YAML', received: `${path}: ${error instanceof Error ? error.message : String(error)}` },
    ]);
  }
  const root = parsed as RawConfig;
  if (isObject(parsed) && isObject(root.upstreams)) {
    const base = dirname(resolvePath(path));
    for (const value of Object.values(root.upstreams)) {
      const upstream = value as RawUpstream;
      const tls = upstream.tls as { caFiles?: unknown } | undefined;
      if (!isObject(value) || !isObject(tls) || !Array.isArray(tls.caFiles)) continue;
      upstream.tls = {
        ...tls,
        caFiles: tls.caFiles.map((f: unknown) => (typeof f === 'string' && !isAbsolute(f) ? resolvePath(base, f) : f)),
      };
    }
  }
  return parsed;
}
