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

/** Times `count` sequential handshakes of `dial` (connect call → 'secureConnect'), in µs. */
async function handshakes(count: number, dial: () => TLSSocket): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const socket = dial();
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    times.push((performance.now() - started) * 1000);
    // Let a TLS 1.3 ticket arrive (it follows the handshake) before closing.
    await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
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
  const variant = (dial: () => TLSSocket): MultiVariant => () => handshakes(count, dial);
  const kind = resumed ? 'resumed' : 'full';
  const goal = (peer: string) => (r: Omit<BenchResult, 'goal'>) => ({
    text: `≤ 1.05× ${peer}`,
    pass: (r.ratios[peer] ?? Infinity) <= 1.05,
  });
  try {
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: variant(() => berth.connect(target)),
      peers: {
        'raw-shared-context': variant(
          raw(() => ({ secureContext: shared, ...(resumed && sharedSession ? { session: sharedSession } : {}) }), (s) => (sharedSession = s)),
        ),
        'raw-ca-per-connect': variant(
          raw(() => ({ ca: ca.cert, ...(resumed && perConnectSession ? { session: perConnectSession } : {}) }), (s) => (perConnectSession = s)),
        ),
      },
      metrics: {
        p50: { id: `tls-handshake-${kind}@p50`, unit: 'µs', better: 'lower', goal: goal('raw-shared-context') },
        p99: {
          id: `tls-handshake-${kind}@p99`,
          unit: 'µs',
          better: 'lower',
          notes: `${count} sequential TLS 1.3 handshakes per round (RSA-2048 leaf, loopback, server in a child process)${resumed ? '; each variant resumes from its own last ticket' : '; tls-config with its session cache off'}.`,
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
