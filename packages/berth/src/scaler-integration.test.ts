import { afterEach, describe, expect, it } from 'vitest';
import { createAdaptiveScaler } from '@berth/adaptive-scaler';
import { createHttpsPool } from '@berth/https-pool';
import { createTestConnector, startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Closed-loop load: `callers` workers send back-to-back requests for `ms` milliseconds. */
async function load(pool: ReturnType<typeof createHttpsPool>, callers: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let failed = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < deadline) {
        try {
          await (await pool.request({ path: '/' })).dump();
        } catch {
          failed += 1;
        }
      }
    }),
  );
  return failed;
}

describe('adaptive scaler over a real https-pool', () => {
  it('grows under load, stops growing when the upstream saturates, and shrinks when load drops', async () => {
    // An upstream that serves 8 requests at once and queues the rest: latency grows with concurrency.
    let inFlight = 0;
    server = await startHttpServer({
      behaviour: () => {
        inFlight += 1;
        const delayMs = Math.round(20 * Math.max(1, inFlight / 8));
        setTimeout(() => (inFlight -= 1), delayMs).unref();
        return { delayMs };
      },
    });
    const pool = createHttpsPool(server.origin, {
      tls: createTestConnector({ ca: (await testPki()).ca.cert }),
      minConnections: 2,
      targetConnections: 2,
      maxConnections: 64,
      minIdle: 0,
      acquireTimeoutMs: 10_000,
    });
    const scaler = createAdaptiveScaler(pool, {
      intervalMs: 500,
      samplesPerInterval: 5,
      min: 2,
      max: 64,
      waitThresholdMs: 20,
      downStabilizationMs: 2_000,
      saturationHoldMs: 60_000,
    });
    scaler.start();
    try {
      expect(await load(pool, 32, 8_000)).toBe(0);
      const underLoad = scaler.history();
      const seen = JSON.stringify(underLoad.map((d) => [d.action, d.from, d.to, d.reason]));
      const peak = Math.max(...underLoad.map((d) => d.to));
      expect(peak, seen).toBeGreaterThan(4);
      expect(underLoad.some((d) => d.action === 'up' && d.reason === 'acquire-wait'), seen).toBe(true);
      expect(peak, seen).toBeLessThanOrEqual(20);
      expect(underLoad.some((d) => ['no-gain', 'saturated', 'congestion', 'demand-cap'].includes(d.reason)), seen).toBe(true);

      const before = underLoad.length;
      expect(await load(pool, 2, 5_000)).toBe(0);
      const afterDrop = scaler.history().slice(before);
      const later = JSON.stringify(afterDrop.map((d) => [d.action, d.from, d.to, d.reason]));
      expect(afterDrop.some((d) => d.action === 'down' && d.reason === 'low-utilization'), later).toBe(true);
      expect(afterDrop.some((d) => d.action === 'up'), later).toBe(false);
      expect(pool.stats().target).toBeLessThan(peak);
    } finally {
      scaler.stop();
      await pool.close();
    }
  }, 30_000);
});
