import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { createTlsConfig } from '@berth/tls-config';
import { createWsPool } from '@berth/ws-pool';
import { runIsolated } from '../harness/isolated.js';
import { memoryNow } from '../harness/memory.js';
import { compareRounds } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';
import { openRawWs, terminateAll } from './ws-common.js';

/** Handshakes in progress at once, on both sides. */
const HANDSHAKES = 16;

/** Arguments of a measurement in a fresh process. */
interface Args {
  readonly url: string;
  readonly target: number;
  readonly timeoutMs: number;
}

function outcome(reached: number, openMs: number, rssBefore: number, rssAfter: number): Record<string, number> {
  return {
    held: reached,
    rate: reached === 0 ? 0 : reached / (openMs / 1000),
    rssPerSocket: reached === 0 ? 0 : (rssAfter - rssBefore) / reached,
  };
}

/** Berth side (fresh process): one ws-pool of `target` sockets; reports what it reached before the deadline. */
export async function berthHeld(args: Args): Promise<Record<string, number>> {
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const before = await memoryNow();
  const t0 = performance.now();
  const pool = createWsPool(args.url, { tls: connector, size: args.target, maxConcurrentHandshakes: HANDSHAKES, pingIntervalMs: 0 });
  try {
    // Degrades gracefully: short of the target (fd limit, timeouts) it reports how many are open.
    await pool.ready({ timeoutMs: args.timeoutMs }).catch(() => {});
    const openMs = performance.now() - t0;
    const reached = pool.stats().sockets.ready;
    const after = await memoryNow();
    return outcome(reached, openMs, before.rss, after.rss);
  } finally {
    await pool.close();
    connector.close();
  }
}

/** raw-ws side (fresh process): `target` ws clients opened `HANDSHAKES` at a time on one shared SecureContext. */
export async function rawHeld(args: Args): Promise<Record<string, number>> {
  const secureContext = await sharedContext();
  const sockets: WebSocket[] = [];
  const before = await memoryNow();
  const t0 = performance.now();
  const deadline = t0 + args.timeoutMs;
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < args.target && performance.now() < deadline && failures < 100) {
      next += 1;
      try {
        sockets.push(await openRawWs(args.url, secureContext, 10_000));
      } catch {
        failures += 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: HANDSHAKES }, worker));
    const openMs = performance.now() - t0;
    const after = await memoryNow();
    return outcome(sockets.length, openMs, before.rss, after.rss);
  } finally {
    terminateAll(sockets);
  }
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const target = mode.tiny ? 20 : mode.quick ? 2000 : 19_000;
  const server = await startServerProcess('wss');
  const timeoutMs = mode.tiny ? 10_000 : mode.quick ? 60_000 : 240_000;
  const args: Args = { url: server.origin, target, timeoutMs };
  const inChild = (fn: string) => () => runIsolated(import.meta.url, fn, args, { timeoutMs: timeoutMs + 60_000 });
  try {
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 2 : 1,
      berth: inChild('berthHeld'),
      peers: { 'raw-ws': inChild('rawHeld') },
      metrics: {
        held: {
          id: 'connections-held',
          unit: 'sockets',
          better: 'higher',
          goal: (r) => ({ text: `≥ 19 000 sockets held${mode.quick ? ` (this run asked for ${target})` : ''}`, pass: r.berth >= Math.min(19_000, target) }),
          notes: `TLS WebSockets opened (${HANDSHAKES} handshakes at a time) toward ${target} within ${timeoutMs / 1000} s and held, each variant in a fresh client process (fd limit 20 000 per process; the server runs in another). The quick suite asks for ${Math.min(target, 2000)}; --full for 19 000.`,
        },
        rate: { id: 'connections-held@open-rate', unit: 'sockets/s', better: 'higher' },
        rssPerSocket: {
          id: 'connections-held@rss-per-socket',
          unit: 'bytes',
          better: 'lower',
          goal: (r) => ({ text: '≤ 1.1× raw-ws RSS per socket', pass: (r.ratios['raw-ws'] ?? Infinity) <= 1.1 }),
        },
      },
    });
  } finally {
    await server.close();
  }
}

export const connectionsHeld: Scenario = {
  id: 'connections-held',
  description: 'TLS WebSockets held open toward the fd limit: ws-pool vs raw ws (open rate, RSS per socket)',
  quick: true,
  run,
};
