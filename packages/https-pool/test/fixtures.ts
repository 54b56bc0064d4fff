/**
 * Shared by the pool's test files: every server, pool and subscription a test opens is closed
 * after it (in reverse order), so the leak guard sees nothing left behind.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterEach } from 'vitest';
import { createTestConnector, startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';
import { createHttpsPool } from '../src/https-pool.js';
import type { HttpsPool } from '../src/https-pool.js';
import type { HttpsPoolOptions } from '../src/options.js';

/** Cleanups of the running test, run in reverse order after it. */
export const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A testkit server closed after the test. */
export async function server(options: Parameters<typeof startHttpServer>[0] = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** A pool over the test CA (no pre-warm unless asked) closed after the test. */
export async function pool(origin: string, options: HttpsPoolOptions = {}): Promise<HttpsPool> {
  const connector = createTestConnector({ ca: (await testPki()).ca.cert });
  const p = createHttpsPool(origin, { tls: connector, minIdle: 0, ...options });
  cleanups.push(() => p.close());
  return p;
}

/** Records the messages of a diagnostics channel until the test ends. */
export function subscribe<T>(channel: string): T[] {
  const messages: T[] = [];
  const fn = (m: unknown) => messages.push(m as T);
  diagnostics.subscribe(channel, fn);
  cleanups.push(() => {
    diagnostics.unsubscribe(channel, fn);
  });
  return messages;
}
