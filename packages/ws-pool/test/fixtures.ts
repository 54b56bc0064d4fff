import diagnostics from 'node:diagnostics_channel';
import { createTestConnector, startWsServer, testPki } from '@berth/testkit';
import type { TestWsServer } from '@berth/testkit';
import { afterEach, vi } from 'vitest';
import { createWsPool } from '../src/ws-pool.js';
import type { WsPool } from '../src/ws-pool.js';
import type { WsPoolOptions } from '../src/options.js';

const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** Closes `item` after the test. */
export function track<T extends { close(): Promise<void> }>(item: T): T {
  open.push(item);
  return item;
}

/** A testkit ws server closed after the test. */
export async function server(options: Parameters<typeof startWsServer>[0] = {}): Promise<TestWsServer> {
  return track(await startWsServer(options));
}

/** A pool over TLS with the test CA (heartbeat off unless asked), closed after the test. */
export async function pool(url: string, options: WsPoolOptions = {}): Promise<WsPool> {
  const connector = createTestConnector({ ca: (await testPki()).ca.cert });
  return track(createWsPool(url, { tls: connector, pingIntervalMs: 0, ...options }));
}

/** Collects the messages published on a diagnostics channel until the test ends. */
export function collect<T>(name: string): T[] {
  const seen: T[] = [];
  const listener = (message: unknown) => seen.push(message as T);
  diagnostics.subscribe(name, listener);
  track({ close: () => Promise.resolve(void diagnostics.unsubscribe(name, listener)) });
  return seen;
}

/** A promise with its resolver, for hooks a test releases. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** `vi.waitFor` with room for a loaded CI box (two cores shared by every package's tests). */
export function eventually<T>(check: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(check, { timeout: 10_000, interval: 5 });
}
