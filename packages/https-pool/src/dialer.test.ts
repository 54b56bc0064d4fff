import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestConnector, startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import { Dialer } from './dialer.js';
import { resolveOptions } from './options.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('Dialer', () => {
  it('fails dials in progress with ERR_BERTH_CLOSED when closed, and every later dial at once', async () => {
    const s = await startHttpServer();
    cleanups.push(() => s.close());
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'blackhole' });
    const connector = createTestConnector({ ca: (await testPki()).ca.cert });
    const dialer = new Dialer(resolveOptions(`https://127.0.0.1:${proxy.port}`, { tls: connector, connectTimeoutMs: 30_000 }));
    const dials = Array.from({ length: 20 }, () => dialer.dial().catch((error: unknown) => error));
    // The sockets are open and their TLS handshakes hang: the dials are really in progress.
    await vi.waitFor(() => expect(proxy.connectionCount()).toBe(20));
    dialer.close();
    for (const outcome of await Promise.all(dials)) expect(outcome).toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await expect(dialer.dial()).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
  });
});
