import { createBerth } from 'berth';

/** Three regions: the fastest serves, a dead one is skipped without failing idempotent requests. */
export async function regionsFailover(origins: Record<'eu' | 'us' | 'ap', string>, ca: string, kill: () => Promise<void>) {
  const berth = createBerth({
    regions: {
      eu: { origin: origins.eu },
      us: { origin: origins.us },
      ap: { origin: origins.ap, priority: 1 }, // fallback level
    },
    tls: { ca, useSystemRoots: false },
    routing: { strategy: 'lowest-latency', probe: { intervalMs: 1_000, timeoutMs: 2_000 } },
  });
  const served: string[] = [];
  try {
    await berth.ready();
    for (let i = 0; i < 10; i++) served.push((await berth.request({ path: '/' })).meta.region ?? '?');
    await kill(); // the serving region dies
    for (let i = 0; i < 10; i++) served.push((await berth.request({ path: '/' })).meta.region ?? '?');
    return { served, failovers: berth.stats().router.failovers };
  } finally {
    await berth.close();
  }
}
