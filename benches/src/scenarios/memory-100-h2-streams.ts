import { createH2Multiplexer } from '@berth/h2-multiplexer';
import { createTlsConfig } from '@berth/tls-config';
import { runIsolated } from '../harness/isolated.js';
import { memoryNow } from '../harness/memory.js';
import { compareRounds } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';
import { closeSession, rawGet, rawSession } from './h2-common.js';

const STREAMS = 100;
const HOLD_MS = 1500;

/** Arguments of a measurement in a fresh process. */
interface Args {
  readonly origin: string;
  readonly streams: number;
}

/** Memory held by `streams` in-flight requests: heap+external and RSS growth after the session is up. */
async function measure(args: Args, warm: () => Promise<void>, start: () => Promise<unknown>): Promise<Record<string, number>> {
  await warm();
  const before = await memoryNow();
  const inFlight = Array.from({ length: args.streams }, start);
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS / 3));
  const during = await memoryNow();
  await Promise.all(inFlight);
  return { heap: during.heapExternal - before.heapExternal, rss: during.rss - before.rss };
}

/** Berth side, run in a fresh process by {@link runIsolated}. */
export async function berthStreams(args: Args): Promise<Record<string, number>> {
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['h2'] });
  const mux = createH2Multiplexer(args.origin, { tls: connector, maxSessions: 1, maxConcurrentStreams: 1000 });
  try {
    const get = async (path: string) => {
      const res = await mux.request({ path });
      await res.dump();
    };
    return await measure(args, () => get('/'), () => get(`/hold/${HOLD_MS}`));
  } finally {
    await mux.close();
    connector.close();
  }
}

/** raw-http2 side, run in a fresh process by {@link runIsolated}. */
export async function rawStreams(args: Args): Promise<Record<string, number>> {
  const session = await rawSession(args.origin, await sharedContext());
  try {
    return await measure(args, () => rawGet(session, '/').then(() => {}), () => rawGet(session, `/hold/${HOLD_MS}`));
  } finally {
    await closeSession(session);
  }
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('h2', { maxConcurrentStreams: 1000 });
  const self = import.meta.url;
  const args: Args = { origin: server.origin, streams: mode.tiny ? 10 : STREAMS };
  const inChild = (fn: string) => () => runIsolated(self, fn, args, { timeoutMs: 60_000 });
  try {
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: inChild('berthStreams'),
      peers: { 'raw-http2': inChild('rawStreams') },
      metrics: {
        heap: {
          id: 'memory-100-h2-streams@heap',
          unit: 'bytes',
          better: 'lower',
          goal: (r) => ({ text: '≤ 1 MB heap+external', pass: r.berth <= 1_000_000 }),
          notes: `Heap+external growth with ${args.streams} concurrent streams in flight on one warm session (server holds each ${HOLD_MS} ms), after a forced GC; each measurement in a fresh client process.`,
        },
        rss: { id: 'memory-100-h2-streams@rss', unit: 'bytes', better: 'lower' },
      },
    });
  } finally {
    await server.close();
  }
}

export const memory100H2Streams: Scenario = {
  id: 'memory-100-h2-streams',
  description: 'memory held by 100 concurrent HTTP/2 streams: h2-multiplexer vs raw node:http2',
  quick: true,
  run,
};
