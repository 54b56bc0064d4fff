import { performance } from 'node:perf_hooks';
import { createH2Multiplexer } from '@berth/h2-multiplexer';
import type { H2Multiplexer, H2MultiplexerOptions } from '@berth/h2-multiplexer';
import { startFaultProxy } from '@berth/testkit';
import { createTlsConfig } from '@berth/tls-config';
import { compare } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';
import { closeSession, rawGet, rawSession } from './h2-common.js';

/** MB/s of one download of `bytes` through `get`. */
async function download(bytes: number, get: () => Promise<number>): Promise<number> {
  const t0 = performance.now();
  const got = await get();
  if (got !== bytes) throw new Error(`downloaded ${got} of ${bytes} bytes`);
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

async function muxGet(mux: H2Multiplexer, path: string): Promise<number> {
  const res = await mux.request({ path, maxResponseBytes: 1e9, bodyTimeoutMs: 120_000, timeoutMs: 120_000 });
  let n = 0;
  for await (const chunk of res.body) n += (chunk as Buffer).length;
  return n;
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('h2');
  // 10 ms each way: a 20 ms round trip in front of the child server.
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: server.port }, { latencyMs: 10 });
  const origin = `https://127.0.0.1:${proxy.port}`;
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['h2'] });
  const bytes = mode.tiny ? 256 * 1024 : mode.quick ? 8_000_000 : 50_000_000;
  const path = `/bytes/${bytes}`;
  // Fresh clients per download, so each starts from its initial window like a new connection would.
  const berth = (windows: H2MultiplexerOptions) => async () => {
    const mux = createH2Multiplexer(origin, { tls: connector, maxSessions: 1, ...windows });
    try {
      return await download(bytes, () => muxGet(mux, path));
    } finally {
      await mux.close();
    }
  };
  const context = await sharedContext();
  try {
    return [
      await compare({
        id: 'adaptive-window',
        unit: 'MB/s',
        better: 'higher',
        rounds: mode.tiny ? 1 : mode.quick ? 2 : 3,
        berth: berth({ adaptiveWindow: true }),
        peers: {
          'fixed-window': berth({ adaptiveWindow: false }),
          // The path's ceiling: windows far above the 20 ms bandwidth-delay product from the start.
          'fixed-16MiB-window': berth({ adaptiveWindow: false, initialStreamWindowBytes: 16 << 20, initialConnectionWindowBytes: 16 << 20 }),
          'raw-http2': async () => {
            const session = await rawSession(origin, context);
            try {
              return await download(bytes, () => rawGet(session, path));
            } finally {
              await closeSession(session);
            }
          },
        },
        goal: (r) => ({ text: '> 1.0× fixed-window', pass: (r.ratios['fixed-window'] ?? 0) > 1 }),
        notes: `One ${(bytes / 1e6).toFixed(1)} MB download per round over a 20 ms RTT path (testkit fault proxy, 10 ms each way, in the client process), each on a new connection: h2-multiplexer with the BDP-adaptive window vs the same with adaptiveWindow: false (defaults: 64 KiB stream / 1 MiB connection window) vs the same with 16 MiB windows from the start (the path's ceiling) vs raw node:http2 (Node's default windows).${mode.quick && !mode.tiny ? ' Quick mode downloads 8 MB instead of 50 MB; --full uses 50 MB.' : ''}`,
      }),
    ];
  } finally {
    connector.close();
    await proxy.close();
    await server.close();
  }
}

export const adaptiveWindow: Scenario = {
  id: 'adaptive-window',
  description: 'HTTP/2 download over a 20 ms RTT path: adaptive (BDP) vs fixed receive windows',
  quick: true,
  run,
};
