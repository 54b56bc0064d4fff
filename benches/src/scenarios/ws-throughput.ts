import type WebSocket from 'ws';
import { createTlsConfig } from '@berth/tls-config';
import { createWsPool } from '@berth/ws-pool';
import { closedLoop } from '../harness/load.js';
import { compare } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';
import { openRawWs, terminateAll } from './ws-common.js';

/** Sends in flight at once on each side (the bounded window). */
const WINDOW = 64;
const PAYLOAD = Buffer.alloc(128, 0x62);

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('wss');
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  // Both sides take every echo, as a client reading its replies would (raw ws with no
  // 'message' listener parses each frame and drops it; the pool always hands it on).
  let berthEchoes = 0;
  let rawEchoes = 0;
  const pool = createWsPool(server.origin, {
    tls: connector,
    pingIntervalMs: 0,
    onMessage: () => {
      berthEchoes += 1;
    },
  });
  let raw: WebSocket | undefined;
  const durationMs = mode.tiny ? 150 : mode.quick ? 3000 : 8000;
  const maxOps = mode.tiny ? 500 : 50_000_000;
  try {
    await pool.ready({ timeoutMs: 10_000 });
    const socket = await openRawWs(server.origin, await sharedContext());
    raw = socket;
    socket.on('message', () => {
      rawEchoes += 1;
    });
    const rate = (op: () => Promise<unknown>) => async () => {
      const r = await closedLoop(async () => void (await op()), { concurrency: WINDOW, durationMs, maxOps });
      if (r.completed === 0) throw new Error(`no message sent (${r.failed} failed)`);
      return (r.completed / r.elapsedMs) * 1000;
    };
    const rawSend = () =>
      new Promise<void>((resolve, reject) => socket.send(PAYLOAD, { binary: true }, (error) => (error ? reject(error) : resolve())));
    // Warm both paths (JIT, socket buffers, the server's echo loop) so round one is not the cold one.
    const berthSend = () => pool.send(PAYLOAD);
    for (const op of [berthSend, rawSend]) {
      await closedLoop(async () => void (await op()), { concurrency: WINDOW, durationMs: 5000, maxOps: mode.tiny ? 200 : 50_000 });
    }
    const result = await compare({
      id: 'ws-throughput',
      unit: 'msg/s',
      better: 'higher',
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: rate(berthSend),
      peers: { 'raw-ws': rate(rawSend) },
      goal: (r) => ({ text: '≥ 0.9× raw-ws', pass: (r.ratios['raw-ws'] ?? 0) >= 0.9 }),
      notes: `${PAYLOAD.length}-byte binary messages on one TLS WebSocket, ${WINDOW} sends in flight (a send completes when written), ${durationMs} ms per round after 50 000 warm-up sends each; the server echoes each one back and both sides count the echoes (ws-pool's onMessage, a raw 'message' listener). ws-pool with pingIntervalMs 0; raw ws with perMessageDeflate off and the shared SecureContext.`,
    });
    if (berthEchoes === 0 || rawEchoes === 0) throw new Error(`echoes not received (ws-pool ${berthEchoes}, raw ${rawEchoes})`);
    return [result];
  } finally {
    if (raw !== undefined) terminateAll([raw]);
    await pool.close();
    connector.close();
    await server.close();
  }
}

export const wsThroughput: Scenario = {
  id: 'ws-throughput',
  description: 'WebSocket messages/s on one TLS socket: ws-pool send() vs raw ws',
  quick: true,
  run,
};
