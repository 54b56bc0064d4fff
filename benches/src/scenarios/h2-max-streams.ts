import { createH2Multiplexer } from '@berth/h2-multiplexer';
import { createTlsConfig } from '@berth/tls-config';
import { single } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

const HOLD_MS = 500;

async function run(mode: RunMode): Promise<BenchResult[]> {
  const levels = mode.tiny ? [20] : mode.quick ? [500, 1000, 2000] : [500, 1000, 2000, 4000, 8000];
  const top = levels.at(-1) ?? 0;
  const server = await startServerProcess('h2', { maxConcurrentStreams: top });
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['h2'] });
  const mux = createH2Multiplexer(server.origin, { tls: connector, maxSessions: 1, maxConcurrentStreams: top, maxQueued: top });
  let sustained = 0;
  let peak = 0;
  const log: string[] = [];
  try {
    for (const n of levels) {
      let failed = 0;
      let firstError = '';
      const sampler = setInterval(() => (peak = Math.max(peak, mux.stats().activeStreams)), 20);
      const outcomes = await Promise.allSettled(
        Array.from({ length: n }, async () => {
          const res = await mux.request({ path: `/hold/${HOLD_MS}`, timeoutMs: 30_000 });
          await res.dump();
        }),
      );
      clearInterval(sampler);
      for (const o of outcomes) {
        if (o.status === 'rejected') {
          failed += 1;
          firstError ||= String((o.reason as Error).message);
        }
      }
      log.push(`${n}: ${failed} failed${firstError ? ` (${firstError})` : ''}`);
      if (failed > 0) break;
      sustained = n;
    }
    return [
      single(
        'h2-max-streams',
        'streams',
        'higher',
        [sustained],
        (v) => ({ text: '≥ 1000 concurrent streams', pass: v >= 1000 }),
        `Largest batch of concurrent GETs (each held ${HOLD_MS} ms by the server) that completed with no error on one h2-multiplexer session (maxSessions 1, maxConcurrentStreams ${top}, server allows ${top}); peak active streams seen ${peak}. Levels: ${log.join('; ')}.`,
      ),
    ];
  } finally {
    await mux.close();
    connector.close();
    await server.close();
  }
}

export const h2MaxStreams: Scenario = {
  id: 'h2-max-streams',
  description: 'concurrent HTTP/2 streams on one session sustained without error',
  quick: true,
  run,
};
