import { performance } from 'node:perf_hooks';
import net from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { BerthError } from '@berth/core-types';
import type { TlsConnector, TlsHandshakeInfo, TlsTarget } from '@berth/core-types';

/** Options of {@link createTestConnector}. */
export interface TestConnectorOptions {
  /** Trusted CA certificates (PEM). */
  readonly ca: string | readonly string[];
  /** ALPN protocols offered. Default `['http/1.1']`. */
  readonly alpnProtocols?: readonly string[];
  /** Handshake deadline in milliseconds. Default 10 000. */
  readonly handshakeTimeoutMs?: number;
  /** Client certificate for mTLS. */
  readonly cert?: { readonly cert: string; readonly key: string };
}

/**
 * A small {@link TlsConnector} for the tests of packages that cannot depend on
 * `@berth/tls-config` (the dependency rule). It shares one SecureContext and verifies
 * chain and host name, but has no pinning, session cache or error classification: the
 * real connector is `@berth/tls-config`'s, and the facade passes that one.
 */
export function createTestConnector(options: TestConnectorOptions): TlsConnector & { handshakes(): number } {
  const secureContext = tls.createSecureContext({
    ca: typeof options.ca === 'string' ? options.ca : [...options.ca],
    ...(options.cert === undefined ? {} : { cert: options.cert.cert, key: options.cert.key }),
  });
  const alpnProtocols = options.alpnProtocols ?? ['http/1.1'];
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const info = new WeakMap<TLSSocket, TlsHandshakeInfo>();
  let handshakes = 0;
  return {
    alpnProtocols,
    handshakeTimeoutMs,
    handshakes: () => handshakes,
    connect(target: TlsTarget): TLSSocket {
      const started = performance.now();
      const servername = target.servername ?? (net.isIP(target.host) === 0 ? target.host : undefined);
      const socket = tls.connect({
        host: target.host,
        port: target.port,
        secureContext,
        ALPNProtocols: [...(target.alpnProtocols ?? alpnProtocols)],
        ...(servername === undefined ? {} : { servername }),
      });
      const timer = setTimeout(() => {
        socket.destroy(
          new BerthError('ERR_BERTH_CONNECT_TIMEOUT', `TLS connect to ${target.host}:${target.port} timed out after ${handshakeTimeoutMs} ms`),
        );
      }, handshakeTimeoutMs);
      const clear = () => clearTimeout(timer);
      socket.once('secureConnect', () => {
        clear();
        handshakes += 1;
        const cipher = socket.getCipher();
        info.set(socket, {
          version: socket.getProtocol() ?? 'unknown',
          cipher: cipher.standardName ?? cipher.name,
          alpn: socket.alpnProtocol ?? false,
          resumed: socket.isSessionReused(),
          handshakeMs: performance.now() - started,
        });
      });
      socket.once('close', clear);
      return socket;
    },
    handshakeInfo: (socket) => info.get(socket),
  };
}
