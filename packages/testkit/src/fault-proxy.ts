import { once } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { track } from './registry.js';

/**
 * What the proxy does to traffic. Faults apply to new and existing connections at once
 * unless said otherwise.
 * - `pass`: forward (with `latencyMs`/`bytesPerSec` if set).
 * - `reset`: new connections are reset (RST) as soon as they are accepted.
 * - `blackhole`: connections are accepted (the TCP handshake completes) but no byte is
 *   forwarded in either direction; existing connections go silent too.
 * - `refuse`: the listening socket is closed, so connects get ECONNREFUSED; `pass` reopens
 *   it on the same port.
 */
export type ProxyMode = 'pass' | 'reset' | 'blackhole' | 'refuse';

/** Settings of a {@link FaultProxy}. */
export interface FaultSettings {
  /** What to do with traffic. Default `pass`. */
  readonly mode?: ProxyMode;
  /** One-way delay added to every chunk, each direction, in milliseconds. Default 0. */
  readonly latencyMs?: number;
  /** Bandwidth cap per connection and direction, in bytes per second. Default unlimited. */
  readonly bytesPerSec?: number;
}

/** A TCP proxy between a client and a server that injects faults. */
export interface FaultProxy {
  /** `127.0.0.1`. */
  readonly host: string;
  /** The proxy's port (stable across `refuse`/`pass`). */
  readonly port: number;
  /** Changes the fault settings (merged with the current ones). */
  set(settings: FaultSettings): Promise<void>;
  /** Current settings. */
  settings(): Required<FaultSettings>;
  /** Resets (RST) every current connection. */
  cutAll(): void;
  /** Half-closes every current connection: sends FIN to the client and stops forwarding the server's bytes, while the client can still write. */
  halfCloseAll(): void;
  /** Live client connections. */
  connectionCount(): number;
  /** Client connections accepted since start. */
  totalConnections(): number;
  /** Bytes forwarded client → server and server → client. */
  bytes(): { up: number; down: number };
  /** Closes the proxy and every connection. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  halfClosed: boolean;
}

/** Starts a fault-injecting TCP proxy on 127.0.0.1 in front of `target`. */
export async function startFaultProxy(target: { host: string; port: number }, initial: FaultSettings = {}): Promise<FaultProxy> {
  let current: Required<FaultSettings> = { mode: 'pass', latencyMs: 0, bytesPerSec: 0, ...initial };
  const pairs = new Set<Pair>();
  let accepted = 0;
  let up = 0;
  let down = 0;
  let server = net.createServer();
  let port = 0;

  // Forwards chunks in order, each due after the one-way latency plus its serialization time
  // at the bandwidth cap. One timer per direction flushes every chunk that has come due, so the
  // proxy itself never limits throughput (a timer per chunk capped it at a few MB/s).
  function pipe(
    from: Socket,
    to: () => Socket | undefined,
    count: (n: number) => void,
    pair: Pair,
    direction: 'up' | 'down',
  ): () => Promise<void> {
    const queue: { chunk: Buffer; due: number }[] = [];
    let queuedBytes = 0;
    let linkFreeAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    let waiters: (() => void)[] = [];

    const write = (chunk: Buffer) => {
      const sink = to();
      if (sink === undefined || sink.destroyed || current.mode === 'blackhole') return;
      count(chunk.length);
      if (!sink.write(chunk) && !from.isPaused()) {
        from.pause();
        sink.once('drain', () => from.resume());
      }
    };
    const settle = () => {
      if (queue.length > 0) return;
      if (ended) {
        const sink = to();
        if (sink !== undefined && !sink.destroyed) sink.end();
      }
      const done = waiters;
      waiters = [];
      for (const resolve of done) resolve();
    };
    const flush = () => {
      timer = undefined;
      const now = performance.now();
      let n = 0;
      while (n < queue.length && (queue[n]?.due ?? Infinity) <= now + 0.5) n += 1;
      for (const { chunk } of queue.splice(0, n)) {
        queuedBytes -= chunk.length;
        write(chunk);
      }
      if (queuedBytes < 1 << 20 && from.isPaused()) from.resume();
      schedule();
      settle();
    };
    const schedule = () => {
      const next = queue[0];
      if (timer !== undefined || next === undefined) return;
      timer = setTimeout(flush, Math.max(0, next.due - performance.now()));
    };

    from.on('data', (chunk: Buffer) => {
      if (current.mode === 'blackhole' || (direction === 'down' && pair.halfClosed)) return;
      const now = performance.now();
      let due = now + current.latencyMs;
      if (current.bytesPerSec > 0) {
        linkFreeAt = Math.max(now, linkFreeAt) + (chunk.length / current.bytesPerSec) * 1000;
        due = linkFreeAt + current.latencyMs;
      }
      if (due <= now && queue.length === 0) {
        write(chunk);
        return;
      }
      queue.push({ chunk, due });
      queuedBytes += chunk.length;
      // Bound what the proxy holds: stop reading while more than 1 MiB waits in the queue.
      if (queuedBytes >= 1 << 20) from.pause();
      schedule();
    });
    from.on('end', () => {
      ended = true;
      settle();
    });
    from.on('close', () => {
      if (timer !== undefined && to()?.destroyed !== false) {
        clearTimeout(timer);
        timer = undefined;
      }
    });
    // Resolves once every chunk received so far has been written (or dropped).
    return () => (queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));
  }

  function onConnection(client: Socket) {
    accepted += 1;
    client.on('error', () => {});
    if (current.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, halfClosed: false };
    pairs.add(pair);
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => client.resetAndDestroy());
    const upFlushed = pipe(client, () => pair.upstream, (n) => (up += n), pair, 'up');
    const downFlushed = pipe(upstream, () => pair.client, (n) => (down += n), pair, 'down');
    // A side that closes takes the other with it, once the bytes still delayed in the
    // proxy (latency, bandwidth) have been delivered.
    client.on('close', () => {
      pairs.delete(pair);
      void upFlushed().then(() => {
        if (!upstream.destroyed) upstream.destroy();
      });
    });
    upstream.on('close', () => {
      void downFlushed().then(() => {
        if (!client.destroyed) client.destroy();
      });
    });
  }

  async function listen(onPort: number) {
    server = net.createServer(onConnection);
    server.on('error', () => {});
    server.listen(onPort, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('fault proxy has no TCP address');
    port = address.port;
  }

  await listen(0);
  const untrack = track({ label: `fault proxy 127.0.0.1:${port}`, connectionCount: () => pairs.size });
  let listening = true;
  if (current.mode === 'refuse') {
    // Started refusing: the port is reserved by the first listen, then released.
    listening = false;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  let closed: Promise<void> | undefined;

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    async set(settings) {
      const next = { ...current, ...settings };
      if (next.mode === 'refuse' && listening) {
        listening = false;
        // Stop accepting at once; server.close()'s callback would wait for every open
        // connection to end, which is not what "refuse new connections" means.
        server.close();
      } else if (next.mode !== 'refuse' && !listening) {
        await listen(port);
        listening = true;
      }
      current = next;
    },
    settings: () => current,
    cutAll() {
      for (const pair of pairs) {
        pair.client.resetAndDestroy();
        pair.upstream?.destroy();
      }
    },
    halfCloseAll() {
      for (const pair of pairs) {
        pair.halfClosed = true;
        pair.client.end();
      }
    },
    connectionCount: () => pairs.size,
    totalConnections: () => accepted,
    bytes: () => ({ up, down }),
    close() {
      closed ??= (async () => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        if (listening) await new Promise<void>((resolve) => server.close(() => resolve()));
        untrack();
      })();
      return closed;
    },
  };
}
