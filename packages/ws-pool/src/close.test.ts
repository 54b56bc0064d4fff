import { startFaultProxy } from '@berth/testkit';
import { describe, expect, it } from 'vitest';
import { pool, server, track, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';

describe('close()', () => {
  it('rejects buffered sends with ERR_BERTH_WS_CLOSED, closes every socket and is idempotent', async () => {
    const s = await server();
    const p = await pool(s.url, { size: 2, clock: manualClock(), onOpen: () => new Promise<void>(() => undefined) });
    await eventually(() => expect(p.stats().sockets.open).toBe(2));
    const pending = p.send('never').then(
      () => undefined,
      (error: unknown) => error,
    );
    const closing = p.close();
    expect(p.state()).toBe('closing');
    expect(p.close()).toBe(closing);
    await closing;
    await expect(pending).resolves.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(p.state()).toBe('closed');
    expect(p.stats().sockets.closed).toBe(2);
    expect(p.stats().lost.closed).toBe(1);
    await expect(p.send('after')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(() => p.channel('after')).toThrow(expect.objectContaining({ code: 'ERR_BERTH_WS_CLOSED' }));
    await expect(p.close()).resolves.toBeUndefined();
  });

  it('terminates a socket still CONNECTING without an unhandled error (partykit#912)', async () => {
    const s = await server();
    const proxy = track(await startFaultProxy({ host: '127.0.0.1', port: s.port }, { mode: 'blackhole' }));
    const p = await pool(`wss://127.0.0.1:${proxy.port}`, { clock: manualClock() });
    await eventually(() => expect(proxy.connectionCount()).toBe(1));
    expect(p.stats().sockets.connecting).toBe(1);
    await p.close();
    expect(p.stats().sockets.closed).toBe(1);
  });

  it('terminates after closeTimeoutMs when the peer never answers the close frame', async () => {
    const clock = manualClock();
    const s = await server();
    const proxy = track(await startFaultProxy({ host: '127.0.0.1', port: s.port }));
    const p = await pool(`wss://127.0.0.1:${proxy.port}`, { clock, closeTimeoutMs: 1_000 });
    await p.ready();
    await proxy.set({ mode: 'blackhole' });
    const closing = p.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.stats().sockets.closing).toBe(1);
    clock.advance(1_000);
    await closing;
    expect(p.stats().sockets.closed).toBe(1);
  });

  it('closes a socket waiting in backoff or for a handshake slot without dialling', async () => {
    const clock = manualClock();
    const s = await server();
    s.rejectHandshakes({ status: 503 });
    const p = await pool(s.url, { clock, size: 3, maxConcurrentHandshakes: 1 });
    await eventually(() => expect(p.stats().sockets.backoff).toBeGreaterThanOrEqual(1));
    await p.close();
    expect(p.stats().sockets.closed).toBe(3);
    expect(clock.pending()).toBe(0);
  });
});
