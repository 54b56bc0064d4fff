import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { createTlsConfig } from '@berth/tls-config';
import { testPki } from '@berth/testkit';
import { compareRounds } from '../harness/rounds.js';
import type { MultiVariant } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { percentile } from '../harness/stats.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

/** Times one handshake of `dial` (connect call → 'secureConnect'), in µs, then closes the socket. */
async function handshake(dial: () => TLSSocket): Promise<number> {
  const started = performance.now();
  const socket = dial();
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const micros = (performance.now() - started) * 1000;
  // Let a TLS 1.3 ticket arrive (it follows the handshake) before closing.
  await new Promise((resolve) => setImmediate(resolve));
  socket.destroy();
  return micros;
}

/** Handshakes per variant in a row before the next variant takes its turn. */
const BATCH = 25;

/**
 * `count` sequential handshakes per variant, the variants taking turns every {@link BATCH}
 * (order rotating): each sees the same moments of this machine, whose speed drifts by ±25 %
 * from one few-second block to the next. p50 and p99 per variant, in µs.
 */
async function interleavedHandshakes(count: number, dials: Readonly<Record<string, () => TLSSocket>>): Promise<Map<string, { p50: number; p99: number }>> {
  const names = Object.keys(dials);
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let done = 0, turn = 0; done < count; done += BATCH, turn += 1) {
    const n = Math.min(BATCH, count - done);
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + turn) % names.length] as string;
      const dial = dials[name] as () => TLSSocket;
      const list = times.get(name) as number[];
      for (let i = 0; i < n; i++) list.push(await handshake(dial));
    }
  }
  return new Map(names.map((name) => {
    const list = times.get(name) as number[];
    return [name, { p50: percentile(list, 50), p99: percentile(list, 99) }];
  }));
}

async function run(mode: RunMode, resumed: boolean): Promise<BenchResult[]> {
  const server = await startServerProcess('tls');
  const { ca } = await testPki();
  const target = { host: '127.0.0.1', port: server.port, servername: 'localhost', alpnProtocols: ['http/1.1'] };
  const berth = createTlsConfig({ ca: ca.cert, useSystemRoots: false, alpnProtocols: ['http/1.1'], ...(resumed ? {} : { maxCachedSessions: 0 }) });
  const shared = tls.createSecureContext({ ca: ca.cert });
  let sharedSession: Buffer | undefined;
  let perConnectSession: Buffer | undefined;
  const raw = (options: () => tls.ConnectionOptions, keep: (s: Buffer) => void) => () => {
    const socket = tls.connect({ host: target.host, port: target.port, servername: 'localhost', ALPNProtocols: ['http/1.1'], ...options() });
    if (resumed) socket.on('session', keep);
    socket.on('error', () => {});
    return socket;
  };
  const count = mode.tiny ? 5 : mode.quick ? 300 : 1500;
  const dials: Record<string, () => TLSSocket> = {
    berth: () => berth.connect(target),
    'raw-shared-context': raw(() => ({ secureContext: shared, ...(resumed && sharedSession ? { session: sharedSession } : {}) }), (s) => (sharedSession = s)),
    'raw-ca-per-connect': raw(() => ({ ca: ca.cert, ...(resumed && perConnectSession ? { session: perConnectSession } : {}) }), (s) => (perConnectSession = s)),
  };
  // One interleaved measurement per round serves all three variants: the first one called in
  // a round (compareRounds rotates the order) runs it, the others take their share.
  let measured = new Map<string, { p50: number; p99: number }>();
  const variant =
    (name: string): MultiVariant =>
    async () => {
      if (!measured.has(name)) measured = await interleavedHandshakes(count, dials);
      const result = measured.get(name) as { p50: number; p99: number };
      measured.delete(name);
      return result;
    };
  const kind = resumed ? 'resumed' : 'full';
  const goal = (peer: string) => (r: Omit<BenchResult, 'goal'>) => ({
    text: `≤ 1.05× ${peer}`,
    pass: (r.ratios[peer] ?? Infinity) <= 1.05,
  });
  try {
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: variant('berth'),
      peers: { 'raw-shared-context': variant('raw-shared-context'), 'raw-ca-per-connect': variant('raw-ca-per-connect') },
      metrics: {
        p50: { id: `tls-handshake-${kind}@p50`, unit: 'µs', better: 'lower', goal: goal('raw-shared-context') },
        p99: {
          id: `tls-handshake-${kind}@p99`,
          unit: 'µs',
          better: 'lower',
          notes: `${count} sequential TLS 1.3 handshakes per variant and round, the variants taking turns every ${BATCH} (RSA-2048 leaf, loopback, server in a child process)${resumed ? '; each variant resumes from its own last ticket' : '; tls-config with its session cache off'}.`,
        },
      },
    });
  } finally {
    berth.close();
    await server.close();
  }
}

export const tlsHandshakeFull: Scenario = {
  id: 'tls-handshake-full',
  description: 'full TLS 1.3 handshake p50/p99 through tls-config vs raw tls.connect (shared context, ca per connect)',
  quick: true,
  run: (mode) => run(mode, false),
};

export const tlsHandshakeResumed: Scenario = {
  id: 'tls-handshake-resumed',
  description: 'resumed TLS 1.3 handshake p50/p99 through tls-config vs raw tls.connect with a kept ticket',
  quick: true,
  run: (mode) => run(mode, true),
};
