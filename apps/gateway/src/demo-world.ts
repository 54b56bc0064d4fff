import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFaultProxy, startHttpServer, startWsServer } from '@berth/testkit';
import type { FaultProxy, TestServer, TestWsServer } from '@berth/testkit';
import type { WebSocket } from 'ws';

/** One embedded region: a testkit server behind a fault proxy that adds its latency. */
export interface DemoRegion {
  readonly name: string;
  readonly protocol: 'h1' | 'h2';
  readonly latencyMs: number;
  readonly server: TestServer;
  readonly proxy: FaultProxy;
  /** `https://127.0.0.1:<proxy port>`: what the gateway is configured with. */
  readonly origin: string;
}

/** The embedded world: three regions and a WebSocket server, each behind a fault proxy. */
export interface DemoWorld {
  readonly regions: readonly DemoRegion[];
  readonly ws: TestWsServer;
  readonly wsProxy: FaultProxy;
  /** `https://127.0.0.1:<ws proxy port>`. */
  readonly wsOrigin: string;
  close(): Promise<void>;
}

/** Region layout: the fastest is HTTP/1.1 so the load spike lands on a pool the scaler sizes. */
const LAYOUT: ReadonlyArray<{ name: string; protocol: 'h1' | 'h2'; latencyMs: number }> = [
  { name: 'eu-west', protocol: 'h1', latencyMs: 4 },
  { name: 'us-east', protocol: 'h2', latencyMs: 20 },
  { name: 'ap-south', protocol: 'h1', latencyMs: 45 },
];

/**
 * A ws server speaking ws-pool's JSON envelope with acks: it acknowledges every `{c,s,d}`,
 * drops a `seq` it has already seen (so a resend after a cut is received exactly once),
 * and echoes the message back with its seq.
 */
function envelopeEcho(): (data: string, socket: WebSocket) => string | undefined {
  const last = new Map<string, number>();
  return (data, socket) => {
    let frame: { t?: string; c?: string; s?: number; d?: unknown };
    try {
      frame = JSON.parse(data) as typeof frame;
    } catch {
      return undefined;
    }
    if (frame.t !== undefined || typeof frame.c !== 'string' || typeof frame.s !== 'number') return undefined;
    socket.send(JSON.stringify({ t: 'ack', c: frame.c, s: frame.s }));
    if (frame.s <= (last.get(frame.c) ?? 0)) return undefined;
    last.set(frame.c, frame.s);
    return JSON.stringify({ c: frame.c, s: frame.s, d: frame.d });
  };
}

/** Starts the three regions and the ws server on loopback (test CA from @berth/testkit). */
export async function startDemoWorld(): Promise<DemoWorld> {
  const regions: DemoRegion[] = [];
  for (const spec of LAYOUT) {
    const server = await startHttpServer({
      protocol: spec.protocol === 'h2' ? 'h2' : 'https',
      behaviour: { body: JSON.stringify({ region: spec.name }), headers: { 'content-type': 'application/json' } },
    });
    const proxy = await startFaultProxy({ host: server.host, port: server.port }, { latencyMs: spec.latencyMs });
    regions.push({ ...spec, server, proxy, origin: `https://127.0.0.1:${proxy.port}` });
  }
  const ws = await startWsServer({ echo: false, onMessage: envelopeEcho() });
  const wsProxy = await startFaultProxy({ host: '127.0.0.1', port: ws.port }, { latencyMs: 2 });
  return {
    regions,
    ws,
    wsProxy,
    wsOrigin: `https://127.0.0.1:${wsProxy.port}`,
    async close() {
      await Promise.allSettled([wsProxy.close(), ...regions.map((r) => r.proxy.close())]);
      await Promise.allSettled([ws.close(), ...regions.map((r) => r.server.close())]);
    },
  };
}

/** How hard the load generator pushes: concurrent workers, and a pause after each request. */
export interface LoadLevel {
  readonly workers: number;
  readonly pauseMs: number;
}

/** What the load generator saw. */
export interface LoadResults {
  readonly requests: number;
  readonly failed: number;
  readonly reused: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly latenciesMs: readonly number[];
  readonly byRegion: Readonly<Record<string, number>>;
}

/**
 * A bounded closed-loop load generator: `workers` loops, each sending one GET through the
 * gateway, reading the whole answer, pausing, and going again. Bounded by construction: it
 * never has more than `workers` requests in flight, so a slow gateway slows it down instead
 * of piling up work.
 */
export class LoadGenerator {
  readonly #base: URL;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  readonly #loops = new Set<Promise<void>>();
  readonly #latencies: number[] = [];
  readonly #failures = new Map<string, number>();
  readonly #byRegion = new Map<string, number>();
  #level: LoadLevel = { workers: 0, pauseMs: 0 };
  #running = 0;
  #requests = 0;
  #failed = 0;
  #reused = 0;
  #seq = 0;
  #stopped = false;

  constructor(gatewayUrl: string, readonly path: string) {
    this.#base = new URL(gatewayUrl);
  }

  /** Changes the load; new workers start at once, surplus ones stop after their current request. */
  set(level: LoadLevel): void {
    this.#level = level;
    while (!this.#stopped && this.#running < level.workers) {
      const id = this.#running;
      this.#running += 1;
      const loop = this.#loop(id).finally(() => this.#loops.delete(loop));
      this.#loops.add(loop);
    }
  }

  /** The current level. */
  get level(): LoadLevel {
    return this.#level;
  }

  async #loop(id: number): Promise<void> {
    try {
      while (!this.#stopped && id < this.#level.workers) {
        await this.#one();
        if (this.#level.pauseMs > 0) await sleep(this.#level.pauseMs);
      }
    } finally {
      this.#running -= 1;
    }
  }

  #one(): Promise<void> {
    const started = performance.now();
    this.#seq += 1;
    return new Promise<void>((resolve) => {
      const fail = (reason: string) => {
        this.#requests += 1;
        this.#failed += 1;
        this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + 1);
        resolve();
      };
      const req = http.get(
        { host: this.#base.hostname, port: this.#base.port, path: `${this.path}?n=${this.#seq}`, agent: this.#agent, timeout: 15_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('error', () => fail('response-error'));
          res.on('end', () => {
            if (res.statusCode !== 200) {
              let code = `HTTP ${res.statusCode ?? 0}`;
              try {
                code = (JSON.parse(body) as { error: { code: string } }).error.code;
              } catch {
                // Not one of the gateway's JSON errors: keep the status.
              }
              fail(code);
              return;
            }
            this.#requests += 1;
            this.#latencies.push(performance.now() - started);
            if (res.headers['x-berth-reused'] === 'true') this.#reused += 1;
            const region = res.headers['x-berth-region'];
            if (typeof region === 'string') this.#byRegion.set(region, (this.#byRegion.get(region) ?? 0) + 1);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('client timeout')));
      req.on('error', (error) => fail(error.message));
    });
  }

  /** A snapshot of what happened so far. */
  results(): LoadResults {
    return {
      requests: this.#requests,
      failed: this.#failed,
      reused: this.#reused,
      failures: Object.fromEntries(this.#failures),
      latenciesMs: this.#latencies,
      byRegion: Object.fromEntries(this.#byRegion),
    };
  }

  /** Stops every worker after its current request and closes the client sockets. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#loops]);
    this.#agent.destroy();
  }
}

/** The value at quantile `q` (0–1) of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
