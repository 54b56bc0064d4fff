import { isIP } from 'node:net';
import tls from 'node:tls';
import type { DetailedPeerCertificate, PeerCertificate, SecureContext, TLSSocket } from 'node:tls';
import { ConfigError, OptionChecker, isBerthError } from '@berth/core-types';
import type { BerthError, ErrorCode, TimerHandle, TlsConnector, TlsHandshakeInfo, TlsTarget } from '@berth/core-types';
import type { Http2ConnectOptions, UndiciConnector, WsConnectOptions } from './adapters.js';
import { ExpiryWatch } from './cert-expiry.js';
import { classifyDialError } from './classify-error.js';
import { ConnectError, PinMismatchError, TlsError } from './errors.js';
import { TlsEvents } from './events.js';
import { resolveOptions } from './options.js';
import type { ResolvedTlsOptions, TlsConfigOptions } from './options.js';
import { commonName } from './pem.js';
import { chainPins, summarizePeer } from './peer.js';
import type { PeerSummary } from './peer.js';
import { ProbeCache } from './probe.js';
import type { ProbeOptions, ProbeResult } from './probe.js';
import { buildSecureContext } from './secure-context.js';
import { SessionCache, sessionKey } from './session-cache.js';
import type { CachedSession, SessionCacheStats } from './session-cache.js';
import { loadTrustMaterial, readFiles } from './trust-material.js';
import type { TrustMaterial } from './trust-material.js';

/** Handshake and resumption counters of a {@link TlsConfig}. */
export interface TlsConfigStats {
  /** The trust profile's name. */
  readonly name: string;
  /** Handshakes completed (verified). */
  readonly handshakes: number;
  /** Of those, abbreviated handshakes that resumed a cached session. */
  readonly resumed: number;
  /** `resumed / handshakes`, 0 before the first handshake. */
  readonly resumptionRate: number;
  /** Dials that failed, by error code. */
  readonly failures: Readonly<Partial<Record<ErrorCode, number>>>;
  /** The session-ticket cache. */
  readonly sessions: SessionCacheStats;
  /** Successful `reload()` calls; each one installed a new SecureContext. */
  readonly reloads: number;
}

/** A probe's verified connection waiting for the first pool dial to the same place. */
interface Parked {
  readonly socket: TLSSocket;
  readonly timer: TimerHandle;
  readonly onError: () => void;
}

/**
 * One dial's facts, kept on its socket (as `kDial`) for the socket's life. The dial's listeners
 * and its `emit` override are shared static functions that find this record there, so a
 * connection keeps one record and one closure (Node calls `checkServerIdentity` without the
 * socket) after its handshake, instead of every closure of the dial and their shared scope
 * (handshake timer included): ≈ 1 KB less per idle connection.
 */
interface Dial {
  readonly config: TlsConfig;
  readonly host: string;
  readonly port: number;
  readonly key: string;
  /** The name verified: the target's servername, else its host. */
  readonly verifyName: string;
  /** `reload()` count when the dial began: tickets of an older trust set are not cached. */
  readonly generation: number;
  /** Monotonic milliseconds when the dial began. */
  readonly started: number;
  /** The cached session offered for resumption; let go once the handshake is over. */
  cached: CachedSession | undefined;
  state: 'tcp-connecting' | 'handshaking' | 'secure' | 'failed';
  peer: PeerSummary | undefined;
  /** The TCP + TLS deadline, until 'secureConnect', a failure or 'close'. */
  timer: TimerHandle | undefined;
  /** Set at 'secureConnect'. */
  info: TlsHandshakeInfo | undefined;
  /** The socket's `emit` before the classifying override (an instrumentation's patch included). */
  emit: SocketEmit | undefined;
}

const kDial = Symbol('berth.tls.dial');
type DialSocket = TLSSocket & { [kDial]?: Dial };
type SocketEmit = (this: TLSSocket, event: string | symbol, ...args: unknown[]) => boolean;

const H1 = ['http/1.1'] as const;
const H2 = ['h2'] as const;

/**
 * One trust profile, shared by every pool: a single SecureContext (CA set, client certificate,
 * version and cipher policy), host-name and SPKI pin verification, a session-ticket cache,
 * an ALPN probe and adapters for undici, `node:http2` and ws. It is itself a
 * {@link TlsConnector}, so the pools take it as is. Build it with {@link createTlsConfig}.
 */
export class TlsConfig implements TlsConnector {
  /** The trust profile's name (option `name`). */
  readonly name: string;
  /** ALPN protocols offered when a target names none. */
  readonly alpnProtocols: readonly string[];
  /** Deadline for TCP connect + TLS handshake, in milliseconds. */
  readonly handshakeTimeoutMs: number;
  readonly #options: ResolvedTlsOptions;
  readonly #events: TlsEvents;
  readonly #expiry: ExpiryWatch;
  readonly #sessions: SessionCache;
  readonly #probes: ProbeCache;
  #context: SecureContext;
  #handshakes = 0;
  #resumed = 0;
  #reloads = 0;
  #generation = 0;
  readonly #parked = new Map<string, Parked>();
  readonly #failures: Partial<Record<ErrorCode, number>> = {};

  /** @internal Use {@link createTlsConfig}. */
  constructor(options: ResolvedTlsOptions) {
    this.#options = options;
    this.name = options.name;
    this.alpnProtocols = Object.freeze([...options.alpnProtocols]);
    this.handshakeTimeoutMs = options.handshakeTimeoutMs;
    this.#events = new TlsEvents(options.name);
    this.#expiry = new ExpiryWatch({
      days: options.expiryWarningDays,
      clock: options.clock,
      logger: options.logger,
      events: this.#events,
    });
    this.#sessions = new SessionCache({
      maxEntries: options.maxCachedSessions,
      maxTtlMs: options.maxSessionTtlMs,
      clock: options.clock,
    });
    this.#probes = new ProbeCache({ clock: options.clock, ttlMs: options.probeCacheTtlMs });
    this.#context = contextOrThrow(options, options.material, 'tls-config');
    this.#checkClientExpiry(options.material);
  }

  /** The shared SecureContext of this trust profile (replaced by `reload()`; sockets keep the one they were made with). */
  get secureContext(): SecureContext {
    return this.#context;
  }

  /**
   * Dials `target` and returns the socket at once. It emits `'secureConnect'` after the chain,
   * host name and pins are verified, or `'error'` with a `BerthError` (`ERR_BERTH_TLS_*`,
   * `ERR_BERTH_CONNECT_*`, `ERR_BERTH_DNS`) and is destroyed. SNI is the target's
   * `servername`, else its host, and is not sent for IP literals (RFC 6066 §3). A cached
   * session for the same host, port, SNI and ALPN offer is resumed. When a `probe()` of the
   * same place kept its connection (`probeKeepMs`) and negotiated a protocol in this offer,
   * that connection is returned instead, and emits `'secureConnect'` again from `setImmediate`.
   */
  connect(target: TlsTarget): TLSSocket {
    return this.#dial(target, true);
  }

  #dial(target: TlsTarget, takeKept: boolean): TLSSocket {
    const { clock } = this.#options;
    const started = clock.now();
    const host = unbracket(target.host);
    const alpn = target.alpnProtocols ?? this.alpnProtocols;
    // The name verified is the override, else the host; it goes out as SNI unless it is an
    // IP literal (RFC 6066 §3 forbids IPs in SNI; Node warns, DEP0123).
    const verifyName = target.servername ?? host;
    const servername = isIP(verifyName) === 0 ? verifyName : undefined;
    const key = sessionKey(host, target.port, servername ?? verifyName, alpn);
    const handedOff = takeKept ? this.#unpark(parkKey(host, target.port, verifyName), alpn) : undefined;
    if (handedOff !== undefined) return handedOff;
    const dial: Dial = {
      config: this,
      host,
      port: target.port,
      key,
      verifyName,
      generation: this.#generation,
      started,
      cached: this.#options.maxCachedSessions === 0 ? undefined : this.#sessions.get(key),
      state: 'tcp-connecting',
      peer: undefined,
      timer: undefined,
      info: undefined,
      emit: undefined,
    };
    const socket: DialSocket = tls.connect({
      host,
      port: target.port,
      secureContext: this.#context,
      ALPNProtocols: [...alpn],
      rejectUnauthorized: !this.#options.insecure,
      checkServerIdentity: this.#identityCheck(dial),
      ...(servername === undefined ? {} : { servername }),
      ...(dial.cached === undefined ? {} : { session: dial.cached.session }),
    });
    socket[kDial] = dial;
    // undici does the same for every socket it dials: no Nagle delay on request heads, and
    // keep-alive probes so a silently dropped connection is noticed.
    socket.setNoDelay(true);
    if (this.#options.tcpKeepAliveInitialDelayMs > 0) socket.setKeepAlive(true, this.#options.tcpKeepAliveInitialDelayMs);
    dial.timer = clock.setTimeout(() => TlsConfig.#onDialTimeout(socket), this.handshakeTimeoutMs);

    // Node destroys a socket that fails verification with its own error from inside the TLS
    // wrap (`onConnectSecure`), with no hook to substitute another one, so the classified
    // BerthError is put in place where the 'error' event is emitted, on this socket only.
    // After 'secureConnect' only TLS alerts are classified: in TLS 1.3 the client finishes
    // first, so a server that rejects our client certificate says so just afterwards.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the socket as `this`
    dial.emit = socket.emit as SocketEmit;
    socket.emit = TlsConfig.#classifyingEmit as TLSSocket['emit'];
    socket.once('connect', TlsConfig.#onTcpConnect);
    socket.once('secureConnect', TlsConfig.#onSecureConnect);
    socket.on('close', TlsConfig.#onDialClose);
    // Node emits 'session' only once the peer is verified (`onnewsessionclient` waits for it).
    if (this.#options.maxCachedSessions > 0) socket.on('session', TlsConfig.#onSession);
    return socket;
  }

  /** Node calls it as `options.checkServerIdentity(hostname, cert)`: the closure holds the dial and nothing else. */
  #identityCheck(dial: Dial): (hostname: string, cert: PeerCertificate) => Error | undefined {
    return (_hostname, cert) => this.#checkIdentity(dial, dial.verifyName, cert);
  }

  static #onDialTimeout(socket: DialSocket): void {
    const dial = socket[kDial];
    if (dial === undefined) return;
    dial.timer = undefined;
    const phase = dial.state === 'tcp-connecting' ? 'TCP connect' : 'TLS handshake';
    const timeoutMs = dial.config.handshakeTimeoutMs;
    socket.destroy(
      new ConnectError('ERR_BERTH_CONNECT_TIMEOUT', `${phase} to ${dial.host}:${dial.port} did not complete within ${timeoutMs} ms`, {
        host: dial.host,
        port: dial.port,
        phase,
        timeoutMs,
      }),
    );
  }

  /** Every dialled socket's `emit`: an 'error' of the dial is replaced by its classified BerthError. */
  static #classifyingEmit(this: DialSocket, event: string | symbol, ...args: unknown[]): boolean {
    // Installed only after kDial and dial.emit are set.
    const dial = this[kDial] as Dial;
    if (event === 'error' && dial.state !== 'failed' && (dial.state !== 'secure' || isTlsAlert(args[0]))) {
      args[0] = dial.config.#fail(dial, args[0]);
    }
    return (dial.emit as SocketEmit).call(this, event, ...args);
  }

  static #onTcpConnect(this: DialSocket): void {
    const dial = this[kDial];
    if (dial?.state === 'tcp-connecting') dial.state = 'handshaking';
  }

  static #onSecureConnect(this: DialSocket): void {
    const dial = this[kDial];
    if (dial === undefined) return;
    dial.state = 'secure';
    dial.config.#stopDialTimer(dial);
    dial.config.#onSecure(this, dial);
  }

  static #onDialClose(this: DialSocket): void {
    const dial = this[kDial];
    if (dial !== undefined) dial.config.#stopDialTimer(dial);
  }

  static #onSession(this: DialSocket, session: Buffer): void {
    const dial = this[kDial];
    // A dial that began before reload() was verified under the old trust set.
    if (dial !== undefined && dial.generation === dial.config.#generation) dial.config.#sessions.set(dial.key, session, dial.peer);
  }

  #fail(dial: Dial, error: unknown): BerthError {
    const tcpConnected = dial.state !== 'tcp-connecting';
    dial.state = 'failed';
    this.#stopDialTimer(dial);
    const classified = classifyDialError(error, { host: dial.host, port: dial.port, tcpConnected });
    this.#failures[classified.code] = (this.#failures[classified.code] ?? 0) + 1;
    this.#events.handshakeError(dial.host, dial.port, classified);
    return classified;
  }

  #stopDialTimer(dial: Dial): void {
    if (dial.timer === undefined) return;
    this.#options.clock.clearTimeout(dial.timer);
    dial.timer = undefined;
  }

  /** Handshake facts of a socket from {@link TlsConfig.connect}; `undefined` before `'secureConnect'`. */
  handshakeInfo(socket: TLSSocket): TlsHandshakeInfo | undefined {
    const dial = (socket as DialSocket)[kDial];
    return dial?.config === this ? dial.info : undefined;
  }

  /**
   * A connector for undici's `connect` option (`new Client(origin, { connect: config.undiciConnect() })`).
   * It offers ALPN `http/1.1` unless told otherwise, since an undici Client without
   * `allowH2` must not be handed an HTTP/2 connection.
   */
  undiciConnect(options: { readonly alpnProtocols?: readonly string[] } = {}): UndiciConnector {
    const alpnProtocols = options.alpnProtocols ?? H1;
    return (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'http:' ? 80 : 443);
      const servername = typeof opts.servername === 'string' && opts.servername !== '' ? opts.servername : undefined;
      const socket = this.connect({
        host: opts.hostname,
        port,
        alpnProtocols,
        ...(servername === undefined ? {} : { servername }),
      });
      const onError = (error: Error) => {
        socket.off('secureConnect', onSecure);
        callback(error, null);
      };
      const onSecure = () => {
        socket.off('error', onError);
        callback(null, socket);
      };
      socket.once('error', onError);
      socket.once('secureConnect', onSecure);
    };
  }

  /** Options for `http2.connect(origin, config.http2Options(target))`: the session dials through this config, offering `h2`. */
  http2Options(target: TlsTarget): Http2ConnectOptions {
    return { createConnection: () => this.connect({ ...target, alpnProtocols: target.alpnProtocols ?? H2 }) };
  }

  /** Options for `new WebSocket(url, config.wsOptions(target))` (ws 8): dials through this config, offering `http/1.1`. */
  wsOptions(target: TlsTarget): WsConnectOptions {
    return {
      createConnection: () => this.connect({ ...target, alpnProtocols: H1 }),
      handshakeTimeout: this.handshakeTimeoutMs,
    };
  }

  /**
   * Opens one verified connection to `origin` (`https://host[:port]`), reports what was
   * negotiated (ALPN, version, cipher, timing, resumption, the peer's leaf). Once the
   * server's session ticket has arrived, the connection is kept for `probeKeepMs` and handed
   * to the first matching `connect()` (see there), else closed; later dials resume the ticket.
   * Concurrent probes of one origin share one dial; a success is cached for `probeCacheTtlMs`.
   * Rejects with the dial's `BerthError`, or `ERR_BERTH_CONFIG` for an origin that is not `https:`.
   */
  probe(origin: string, options: ProbeOptions = {}): Promise<ProbeResult> {
    const target = probeTarget(origin, options, this.alpnProtocols);
    const keepKey = parkKey(target.host, target.port, target.servername ?? target.host);
    return this.#probes.run(target, options.fresh === true, () => ({
      // A probe always dials: a kept connection would report an old handshake.
      socket: this.#dial(target, false),
      info: (socket) => (socket as DialSocket)[kDial]?.info,
      peer: (socket) => (socket as DialSocket)[kDial]?.peer,
      release: (socket) => this.#park(keepKey, socket),
      waitForTicket: this.#options.maxCachedSessions > 0,
    }));
  }

  /**
   * Re-reads `caFiles` and client-certificate files and installs a new SecureContext. Open
   * connections keep the context they were made with; new ones use the new one. The session
   * cache and probe results are dropped, since they were verified under the old trust set.
   * On failure the old context stays and the promise rejects with `ERR_BERTH_CONFIG`.
   */
  async reload(): Promise<void> {
    const { sources } = this.#options;
    const c = new OptionChecker('tls-config reload');
    const material = loadTrustMaterial(sources, await readFiles(sources), c);
    let context: SecureContext | undefined;
    try {
      c.done();
      context = contextOrThrow(this.#options, material, 'tls-config reload');
    } catch (error) {
      const failure = error as BerthError;
      this.#options.logger.error(`TLS config "${this.name}": reload failed, keeping the previous SecureContext`, {
        code: failure.code,
        error: failure.message,
      });
      this.#events.reload(failure);
      throw failure;
    }
    this.#context = context;
    this.#generation += 1;
    this.#sessions.clear();
    this.#probes.clear();
    this.#dropParked();
    this.#reloads += 1;
    this.#checkClientExpiry(material);
    this.#events.reload(undefined);
  }

  /**
   * Closes the connections probes kept for hand-off and forgets probe results. The config
   * stays usable (it owns no other resource; connections it made belong to their pools).
   */
  close(): void {
    this.#dropParked();
    this.#probes.clear();
  }

  /** Handshake and resumption counters. */
  stats(): TlsConfigStats {
    return {
      name: this.name,
      handshakes: this.#handshakes,
      resumed: this.#resumed,
      resumptionRate: this.#handshakes === 0 ? 0 : this.#resumed / this.#handshakes,
      failures: { ...this.#failures },
      sessions: this.#sessions.stats(),
      reloads: this.#reloads,
    };
  }

  #park(key: string, socket: TLSSocket): void {
    const keepMs = this.#options.probeKeepMs;
    if (keepMs === 0 || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.#parked.get(key)?.socket.destroy();
    const { clock } = this.#options;
    const timer = clock.setTimeout(() => socket.destroy(), keepMs);
    timer.unref();
    // A kept connection must neither crash the process on a reset nor keep it alive.
    const onError = () => {};
    socket.on('error', onError);
    socket.unref();
    const entry: Parked = { socket, timer, onError };
    this.#parked.set(key, entry);
    socket.once('close', () => {
      clock.clearTimeout(timer);
      if (this.#parked.get(key) === entry) this.#parked.delete(key);
    });
  }

  /**
   * Hands a kept probe connection to a `connect()` whose ALPN offer includes what the probe
   * negotiated. Its 'secureConnect' is emitted again from setImmediate, so the caller sees the
   * usual sequence; node:http2 replays any bytes the server already sent.
   */
  #unpark(key: string, offer: readonly string[]): TLSSocket | undefined {
    const entry = this.#parked.get(key);
    if (entry === undefined) return undefined;
    const alpn = (entry.socket as DialSocket)[kDial]?.info?.alpn;
    if (entry.socket.destroyed || typeof alpn !== 'string' || !offer.includes(alpn)) return undefined;
    this.#parked.delete(key);
    this.#options.clock.clearTimeout(entry.timer);
    const { socket } = entry;
    socket.off('error', entry.onError);
    socket.ref();
    // setImmediate rather than nextTick: a caller that awaits a promise or two before
    // listening (as it may with a fresh dial, which takes a network round trip) still hears it.
    setImmediate(() => {
      if (!socket.destroyed) socket.emit('secureConnect');
    });
    return socket;
  }

  #dropParked(): void {
    for (const { socket } of this.#parked.values()) socket.destroy();
    this.#parked.clear();
  }

  #checkIdentity(dial: Dial, hostname: string, cert: PeerCertificate): Error | undefined {
    const peer = summarizePeer(cert);
    dial.peer = peer;
    if (this.#options.insecure) return undefined;
    const hostError = tls.checkServerIdentity(hostname, cert);
    if (hostError !== undefined) return hostError;
    const { pins } = this.#options;
    if (pins.size > 0) {
      const chain = chainPins(cert as DetailedPeerCertificate);
      if (!chain.some((pin) => pins.has(pin))) {
        const pinSeen = chain[0] ?? '';
        return new PinMismatchError(
          `TLS peer ${dial.host}:${dial.port} (${hostname}) presented key pin-sha256="${pinSeen}", which matches none of the ${pins.size} configured pin(s)`,
          { host: dial.host, port: dial.port, pinSeen, chainPins: chain },
        );
      }
    }
    const custom = this.#options.checkServerIdentity;
    const customError = custom?.(hostname, cert);
    if (customError === undefined) return undefined;
    if (isBerthError(customError)) return customError;
    return new TlsError(
      'ERR_BERTH_TLS_UNTRUSTED',
      `TLS peer ${dial.host}:${dial.port} (${hostname}) was rejected by checkServerIdentity: ${customError.message}`,
      { cause: customError, host: dial.host, port: dial.port },
    );
  }

  #onSecure(socket: TLSSocket, dial: Dial): void {
    const resumed = socket.isSessionReused();
    if (dial.cached !== undefined && !resumed) this.#sessions.reject(dial.key);
    // A resumed handshake carries no certificate; the session remembers who it was issued by.
    // Node skips checkServerIdentity when the chain failed, which only gets here when insecure.
    dial.peer ??= resumed ? dial.cached?.peer : summarizePeer(socket.getPeerCertificate());
    dial.cached = undefined;
    const cipher = socket.getCipher();
    const info: TlsHandshakeInfo = {
      version: socket.getProtocol() ?? 'unknown',
      cipher: cipher.standardName,
      alpn: socket.alpnProtocol ?? false,
      resumed,
      handshakeMs: this.#options.clock.now() - dial.started,
    };
    dial.info = info;
    if (dial.peer !== undefined && !resumed) this.#expiry.check('peer', dial.peer.subject, dial.peer.validTo);
    this.#handshakes += 1;
    if (resumed) this.#resumed += 1;
    this.#events.handshake(dial.host, dial.port, info);
  }

  #checkClientExpiry(material: TrustMaterial): void {
    const leaf = material.client?.leaf;
    if (leaf !== undefined) this.#expiry.check('client', commonName(leaf.subject), Date.parse(leaf.validTo));
  }
}

function contextOrThrow(options: ResolvedTlsOptions, material: TrustMaterial, component: string): SecureContext {
  try {
    return buildSecureContext({ material, minVersion: options.minVersion, maxVersion: options.maxVersion, ciphers: options.ciphers });
  } catch (error) {
    // Everything was parsed and checked already; OpenSSL can still refuse (e.g. a key type
    // the security level forbids), so it is reported like any other bad option.
    throw new ConfigError(component, [
      { path: 'secureContext', expected: 'material OpenSSL accepts', received: (error as Error).message },
    ]);
  }
}

function parkKey(host: string, port: number, verifyName: string): string {
  return `${host}:${port}:${verifyName}`;
}

function isTlsAlert(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_SSL_');
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function probeTarget(origin: string, options: ProbeOptions, defaultAlpn: readonly string[]): TlsTarget & { readonly origin: string } {
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    throw new ConfigError('tls-config probe', [{ path: 'origin', expected: 'an https:// origin', received: JSON.stringify(origin) }]);
  }
  return {
    origin: url.origin,
    host: unbracket(url.hostname),
    port: url.port === '' ? 443 : Number(url.port),
    alpnProtocols: options.alpnProtocols ?? defaultAlpn,
    ...(options.servername === undefined ? {} : { servername: options.servername }),
  };
}

/**
 * Builds a trust profile. Validates every option at once (`ERR_BERTH_CONFIG` listing each
 * bad field), loads CA and client-certificate files, builds the one shared SecureContext,
 * and warns through the logger on every call made with `insecure: true` (refused when
 * `NODE_ENV=production`).
 *
 * @example
 * const tls = createTlsConfig({ caFiles: ['/etc/berth/ca.pem'], pins: [current, backup] });
 * const client = new undici.Client(origin, { connect: tls.undiciConnect() });
 * const session = http2.connect(origin, tls.http2Options({ host, port }));
 */
export function createTlsConfig(options: TlsConfigOptions = {}): TlsConfig {
  const resolved = resolveOptions(options);
  if (resolved.insecure) {
    resolved.logger.warn(
      `TLS config "${resolved.name}" is insecure: certificate, host-name and pin verification are OFF. Use only in tests.`,
      { name: resolved.name, insecure: true },
    );
  }
  return new TlsConfig(resolved);
}
