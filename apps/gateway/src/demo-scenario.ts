/**
 * The scripted scenario of `pnpm demo`: three embedded regions on loopback (HTTPS/1.1,
 * HTTP/2, HTTPS/1.1 behind fault proxies with different latencies), the gateway in front of
 * them, a bounded load generator and a WebSocket stream: steady load → the fastest region
 * dies → failover → it comes back → a load spike → the scaler grows the pool → load drops →
 * it shrinks → a numbered ws stream across a forced socket cut.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBerth } from 'berth';
import type { Berth, BerthChannel, BerthStats, BerthWebSocket } from 'berth';
import { testPki } from '@berth/testkit';
import { LoadGenerator, quantile, startDemoWorld } from './demo-world.js';
import type { DemoWorld, LoadLevel } from './demo-world.js';
import { startGateway } from './gateway.js';
import type { Gateway } from './gateway.js';

/** The upstream name the demo's regions are configured under. */
export const UPSTREAM = 'api';

const STEADY: LoadLevel = { workers: 6, pauseMs: 20 };
const SPIKE: LoadLevel = { workers: 48, pauseMs: 0 };
const LOW: LoadLevel = { workers: 2, pauseMs: 100 };

/** Where the script is, for the live table. */
let phase = 'starting';

/** Starts the gateway with the demo's `api` upstream over the three regions, timings compressed. */
export async function startStack(world: DemoWorld, ca: string): Promise<Gateway> {
  return startGateway({
    port: 0,
    upstreams: {
      [UPSTREAM]: {
        regions: Object.fromEntries(world.regions.map((r) => [r.name, { origin: r.origin, protocol: r.protocol }])),
        tls: { ca, useSystemRoots: false },
        pool: { minConnections: 2, minIdle: 1, targetConnections: 2, maxConnections: 32 },
        // The defaults are tuned for production (10 s decisions, 5 min shrink stabilization);
        // the demo compresses them so growth and shrinking happen within the run.
        scaling: {
          intervalMs: 250,
          min: 2,
          max: 32,
          waitThresholdMs: 20,
          upCooldownMs: 250,
          downStabilizationMs: 1000,
          historySize: 1000,
        },
        // The per-region breaker opens for 10 s (doubling) by default; short here so the
        // region that comes back takes traffic again within the run.
        resilience: { breaker: { openMs: 500, maxOpenMs: 1000 } },
        routing: {
          switchAfterMs: 1000,
          decayMs: 1000,
          probe: { intervalMs: 250, timeoutMs: 500 },
          outlier: { consecutiveFailures: 2, baseEjectionMs: 1500, maxEjectionMs: 3000, intervalMs: 1000 },
        },
      },
    },
  });
}

function pad(value: string | number, width: number): string {
  const text = String(value);
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function scalerText(stats: BerthStats['regions'][string]): string {
  const last = stats.scaler?.at(-1);
  return last === undefined ? '-' : `${last.action} ${last.from}→${last.to} (${String(last.reason)})`;
}

function poolText(stats: BerthStats['regions'][string]): string {
  // An HTTP/1.1 region's transport stats are the https-pool's PoolStats.
  const t = stats.transport as unknown as Partial<Record<'size' | 'target' | 'idle' | 'pending', number>>;
  if (stats.protocol !== 'http/1.1' || t.size === undefined) return '-';
  return `${t.size}/${t.target ?? '?'}/${t.idle ?? 0}/${t.pending ?? 0}`;
}

function table(elapsedS: number, berth: Berth, load: LoadGenerator, ws: BerthWebSocket | undefined, wsCounts: { sent: number; received: number }): string {
  const stats = berth.stats();
  const results = load.results();
  const lines = [
    `t=${elapsedS.toFixed(0).padStart(3)}s  ${pad(phase, 34)} load ${load.level.workers} workers  requests ${results.requests}  failed ${results.failed}  current ${stats.router.current ?? '-'}`,
    `  ${pad('region', 9)} ${pad('proto', 8)} ${pad('health', 10)} ${pad('est ms', 7)} ${pad('reqs', 7)} ${pad('errs', 5)} ${pad('pool s/t/i/w', 13)} ${pad('h2 strm', 8)} scaler`,
  ];
  for (const [name, region] of Object.entries(stats.regions)) {
    const r = stats.router.regions[name];
    const streams = region.protocol === 'h2' ? String(region.transport.inFlight) : '-';
    lines.push(
      `  ${pad(name, 9)} ${pad(region.protocol ?? '?', 8)} ${pad(r?.health ?? '?', 10)} ${pad((r?.latencyMs ?? 0).toFixed(1), 7)} ${pad(r?.requests ?? 0, 7)} ${pad(r?.errors ?? 0, 5)} ${pad(poolText(region), 13)} ${pad(streams, 8)} ${scalerText(region)}`,
    );
  }
  if (ws !== undefined) {
    const s = ws.stats();
    const states = Object.entries(s.sockets)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${state}:${n}`)
      .join(' ');
    lines.push(`  ws: ${states || '-'}  sent ${wsCounts.sent}  received ${wsCounts.received}  reconnects ${s.reconnects}`);
  }
  return lines.join('\n');
}

/** Sends `count` numbered messages on one channel, cutting the socket part-way; returns what arrived. */
async function wsStream(
  pool: BerthWebSocket,
  cut: () => void,
  count: number,
  spanMs: number,
  counts: { sent: number; received: number },
): Promise<{ sent: number; received: number; lost: number }> {
  const channel: BerthChannel = pool.channel('numbers');
  const seen = new Set<number>();
  const reading = (async () => {
    for await (const message of channel) {
      if (typeof message === 'number') seen.add(message);
      counts.received = seen.size;
      if (seen.size >= count) break;
    }
  })();
  const sends: Array<Promise<unknown>> = [];
  const gap = Math.max(1, Math.floor(spanMs / count));
  for (let i = 1; i <= count; i += 1) {
    if (i === Math.floor(count / 2)) cut();
    // A rejected send is counted as lost below: it never arrives.
    sends.push(channel.send(i).catch(() => undefined));
    counts.sent = i;
    await sleep(gap);
  }
  await Promise.allSettled(sends);
  await Promise.race([reading, sleep(5_000)]);
  await channel.close();
  return { sent: count, received: seen.size, lost: count - seen.size };
}

/** What {@link runDemo} reports besides its printed table. */
export interface DemoSummary {
  readonly requests: number;
  readonly failed: number;
  readonly wsSent: number;
  readonly wsReceived: number;
  readonly wsLost: number;
  readonly failoverMs: number | undefined;
  /** 0 when nothing was lost, 1 otherwise. */
  readonly exitCode: number;
}

/**
 * Runs the scripted scenario for `durationS` seconds, printing the live table once a second
 * and the summary through `print`. Everything it starts is closed before it resolves.
 */
export async function runDemo(durationS: number, print: (line: string) => void = console.log): Promise<DemoSummary> {
  const pki = await testPki();
  const world = await startDemoWorld();
  const gateway = await startStack(world, pki.ca.cert);
  const berth = gateway.client(UPSTREAM);
  const stream = createBerth({
    name: 'stream',
    origin: world.wsOrigin,
    protocol: 'h1',
    tls: { ca: pki.ca.cert, useSystemRoots: false },
    routing: { probe: false },
    scaling: false,
    resilience: false,
  });
  const load = new LoadGenerator(gateway.url, `/${UPSTREAM}/item`);
  const wsCounts = { sent: 0, received: 0 };
  let ws: BerthWebSocket | undefined;
  const started = performance.now();
  let ticker: NodeJS.Timeout | undefined;
  try {
    if (berth === undefined) throw new Error('gateway has no api upstream');
    print(`Berth demo: gateway ${gateway.url} → ${world.regions.map((r) => `${r.name} (${r.protocol}, +${r.latencyMs} ms)`).join(', ')}; ${durationS} s\n`);
    await berth.ready();
    ticker = setInterval(() => print(`${table((performance.now() - started) / 1000, berth, load, ws, wsCounts)}\n`), 1000);
    const at = async (fraction: number) => {
      const wait = started + fraction * durationS * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
    };
    const fastest = world.regions[0];
    if (fastest === undefined) throw new Error('no regions');

    phase = 'steady load';
    load.set(STEADY);
    await at(0.15);

    phase = `${fastest.name} dies`;
    // set() waits for the listener to close, which waits for open connections: cut them meanwhile.
    const refusing = fastest.proxy.set({ mode: 'refuse' });
    fastest.proxy.cutAll();
    await refusing;
    const killedAt = performance.now();
    let failoverMs: number | undefined;
    while (performance.now() - killedAt < 5_000) {
      const current = berth.stats().router.current;
      if (current !== undefined && current !== fastest.name) {
        failoverMs = performance.now() - killedAt;
        break;
      }
      await sleep(10);
    }
    phase = `failover (${fastest.name} down)`;
    await at(0.3);

    phase = `${fastest.name} comes back`;
    await fastest.proxy.set({ mode: 'pass' });
    await at(0.5);

    phase = 'load spike (scaler grows)';
    load.set(SPIKE);
    await at(0.68);

    phase = 'load drops (scaler shrinks)';
    load.set(LOW);
    await at(0.72);

    phase = 'ws stream across a socket cut';
    ws = stream.websocket('/', { acks: true, backoffBaseMs: 50, backoffCapMs: 500, pingIntervalMs: 1000 });
    await ws.ready({ timeoutMs: 5_000 });
    const wsResult = await wsStream(
      ws,
      () => {
        phase = 'ws socket cut';
        world.wsProxy.cutAll();
      },
      Math.max(100, Math.round(durationS * 10)),
      Math.max(1_000, (0.95 - 0.72) * durationS * 1000),
      wsCounts,
    );
    await at(1);
    clearInterval(ticker);
    ticker = undefined;
    phase = 'done';
    print(`${table((performance.now() - started) / 1000, berth, load, ws, wsCounts)}\n`);

    await load.stop();
    const results = load.results();
    const stats = berth.stats();
    // Per HTTP/1.1 region: the scaler's steps up and down over the run (its history window).
    const steps = Object.entries(stats.regions)
      .filter(([, r]) => r.scaler !== undefined)
      .map(([name, r]) => {
        const ups = r.scaler?.filter((d) => d.action === 'up').length ?? 0;
        const downs = r.scaler?.filter((d) => d.action === 'down').length ?? 0;
        const peak = Math.max(0, ...(r.scaler ?? []).map((d) => d.to));
        return `${name} ${ups} up / ${downs} down (peak ${peak})`;
      });
    const p50 = quantile(results.latenciesMs, 0.5);
    const p99 = quantile(results.latenciesMs, 0.99);
    const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    print('Summary');
    print(`  requests            ${results.requests}`);
    print(`  failed              ${results.failed}${results.failed > 0 ? ` ${JSON.stringify(results.failures)}` : ''}`);
    print(`  by region           ${JSON.stringify(results.byRegion)}`);
    print(`  reuse rate          ${pct(results.requests === 0 ? 0 : results.reused / Math.max(1, results.requests - results.failed))}`);
    print(`  latency p50 / p99   ${ms(p50)} / ${ms(p99)}`);
    print(`  failover time       ${ms(failoverMs)}`);
    print(`  TLS resumption      ${pct(stats.tls.resumptionRate)} (${stats.tls.resumed}/${stats.tls.handshakes} handshakes)`);
    print(`  scaler              ${steps.join(', ') || 'n/a'}`);
    print(`  ws messages         sent ${wsResult.sent}, received ${wsResult.received}, lost ${wsResult.lost}`);
    const ok = results.failed === 0 && wsResult.lost === 0;
    print(ok ? '\nOK: no request and no ws message lost.' : '\nFAILED: requests or ws messages were lost.');
    return {
      requests: results.requests,
      failed: results.failed,
      wsSent: wsResult.sent,
      wsReceived: wsResult.received,
      wsLost: wsResult.lost,
      failoverMs,
      exitCode: ok ? 0 : 1,
    };
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await load.stop();
    await Promise.allSettled([stream.close(), gateway.close()]);
    await world.close();
  }
}

