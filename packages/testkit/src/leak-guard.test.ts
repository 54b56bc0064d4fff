import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { activeResourceCounts, leaksSince, waitForNoLeaks } from './leak-guard.js';
import { startHttpServer } from './http-server.js';

describe('leak guard', () => {
  it('names a timer, a server and a socket left open, and clears once they close', async () => {
    const baseline = activeResourceCounts();
    const timer = setTimeout(() => {}, 10_000);
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const leaks = leaksSince(baseline);
    expect(leaks).toContain('1 Timeout');
    expect(leaks).toContain('1 TCPServerWrap');
    clearTimeout(timer);
    server.close();
    expect(await waitForNoLeaks(baseline, { timeoutMs: 1000 })).toEqual([]);
  });

  it('reports testkit servers that still hold connections', async () => {
    const server = await startHttpServer({ protocol: 'http' });
    const baseline = activeResourceCounts();
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    await server.waitForConnections((n) => n === 1);
    const leaks = await waitForNoLeaks(baseline, { timeoutMs: 50 });
    expect(leaks.some((l) => l.startsWith(`http server 127.0.0.1:${server.port} (1 open connection)`))).toBe(true);
    socket.destroy();
    expect(await waitForNoLeaks(baseline, { timeoutMs: 1000 })).toEqual([]);
    await server.close();
  });
});
