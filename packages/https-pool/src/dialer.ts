import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { TlsHandshakeInfo } from '@berth/core-types';
import { DnsResolver } from './dns-resolver.js';
import { toBerthError } from './error-mapping.js';
import { HttpsPoolError, PoolClosedError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/** A connected (and, for https, verified) socket, ready to hand to an undici `Client`. */
export interface DialedSocket {
  readonly socket: Socket;
  /** Handshake facts; absent for cleartext. */
  readonly tls: TlsHandshakeInfo | undefined;
  /** DNS + TCP + TLS, in milliseconds. */
  readonly connectMs: number;
  /** The address dialled. */
  readonly address: string;
}

function ignore(): void {}

// Only HTTP/1.1 is offered: this pool speaks nothing else, and offering h2 would let a
// server pick a protocol the slot cannot use (the facade sends h2 origins to h2-multiplexer).
const ALPN = ['http/1.1'];

/**
 * Opens one connection for one pool slot: DNS through undici's interceptor, then TCP, then
 * TLS through the given `TlsConnector` or through ONE SecureContext built here at
 * construction (system roots) — never a context per connection (+27 % handshake time and
 * 12–18 KiB per connection, ANCHORS §1). One deadline covers all three steps.
 */
export class Dialer {
  readonly #options: ResolvedOptions;
  readonly #dns: DnsResolver;
  readonly #secureContext: SecureContext | undefined;
  readonly #port: number;
  readonly #hostname: string;
  /**
   * How to fail each dial in progress. The pool's close ends them through this set instead
   * of one abort listener per dial on a shared AbortSignal, which warned
   * (MaxListenersExceededWarning) as soon as more than ten connections opened at once.
   */
  readonly #inProgress = new Set<(error: Error) => void>();
  #closed = false;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#dns = new DnsResolver(options.dns);
    this.#secureContext = options.secure && options.tls === undefined ? tls.createSecureContext() : undefined;
    const url = options.origin;
    this.#port = url.port === '' ? (options.secure ? 443 : 80) : Number(url.port);
    this.#hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  }

  /**
   * Dials; rejects with a coded error (`ERR_BERTH_DNS`, `ERR_BERTH_CONNECT_*`,
   * `ERR_BERTH_TLS_*`, `ERR_BERTH_CLOSED`). Always settles by `connectTimeoutMs`, even when a
   * DNS lookup hangs (a saturated libuv pool): a create that never settles is how a
   * generic-pool wedges for good (coopernurse/node-pool#298).
   */
  dial(): Promise<DialedSocket> {
    const { clock, connectTimeoutMs, originString } = this.#options;
    const started = clock.now();
    const dialing = new Promise<DialedSocket>((resolve, reject) => {
      let socket: Socket | undefined;
      let done = false;
      const fail = (error: unknown) => {
        if (done) return;
        done = true;
        cleanup();
        socket?.destroy();
        reject(toBerthError(error, 'connect', originString));
      };
      const timer = clock.setTimeout(() => {
        fail(new HttpsPoolError('ERR_BERTH_CONNECT_TIMEOUT', `connect to ${originString} timed out after ${connectTimeoutMs} ms`, { connectTimeoutMs }));
      }, connectTimeoutMs);
      const cleanup = () => {
        clock.clearTimeout(timer);
        this.#inProgress.delete(fail);
      };
      if (this.#closed) {
        fail(new PoolClosedError(`pool for ${originString} closed`));
        return;
      }
      this.#inProgress.add(fail);
      this.#dns.resolve(this.#options.origin).then(
        (address) => {
          if (done) return;
          const opened = this.#open(address);
          socket = opened;
          opened.once(this.#options.secure ? 'secureConnect' : 'connect', () => {
            // Until the connection attaches its own listener, a late socket error is nobody's
            // to handle, but it must never be an unlistened 'error'.
            opened.on('error', ignore);
            // Or the listener would keep this dial's closures alive as long as the connection.
            opened.off('error', fail);
            if (done) return;
            done = true;
            cleanup();
            if (this.#options.tcpNoDelay) opened.setNoDelay(true);
            if (this.#options.tcpKeepAliveInitialDelayMs > 0) opened.setKeepAlive(true, this.#options.tcpKeepAliveInitialDelayMs);
            const connectMs = clock.now() - started;
            resolve({ socket: opened, tls: this.#handshakeInfo(opened, connectMs), connectMs, address });
          });
          opened.once('error', fail);
        },
        (error: unknown) => fail(toBerthError(error, 'connect', `resolving ${this.#hostname}`)),
      );
    });
    // Handled where it is created: close() fails every dial in progress, and a dial whose
    // awaiter has moved on (a request deadline, a pool closing mid-dial) must never surface
    // as an unhandled rejection. The awaiter, if any, still gets the error.
    dialing.catch(ignore);
    return dialing;
  }

  /** Fails every dial in progress with `ERR_BERTH_CLOSED` and refuses new ones. Idempotent. */
  close(): void {
    this.#closed = true;
    const error = new PoolClosedError(`pool for ${this.#options.originString} closed while connecting`);
    for (const fail of [...this.#inProgress]) fail(error);
  }

  #open(address: string): Socket {
    const port = this.#port;
    if (!this.#options.secure) return net.connect({ host: address, port });
    // SNI carries the origin's name, never an IP literal (RFC 6066 §3).
    const servername = net.isIP(this.#hostname) === 0 ? this.#hostname : undefined;
    const connector = this.#options.tls;
    if (connector !== undefined) {
      return connector.connect({ host: address, port, alpnProtocols: ALPN, ...(servername === undefined ? {} : { servername }) });
    }
    return tls.connect({
      host: address,
      port,
      ...(this.#secureContext === undefined ? {} : { secureContext: this.#secureContext }),
      ALPNProtocols: ALPN,
      ...(servername === undefined ? {} : { servername }),
    });
  }

  #handshakeInfo(socket: Socket, connectMs: number): TlsHandshakeInfo | undefined {
    if (!this.#options.secure) return undefined;
    const tlsSocket = socket as TLSSocket;
    const fromConnector = this.#options.tls?.handshakeInfo(tlsSocket);
    if (fromConnector !== undefined) return fromConnector;
    const cipher = tlsSocket.getCipher();
    return {
      version: tlsSocket.getProtocol() ?? 'unknown',
      cipher: cipher.standardName ?? cipher.name,
      alpn: tlsSocket.alpnProtocol ?? false,
      resumed: tlsSocket.isSessionReused(),
      handshakeMs: connectMs,
    };
  }
}
