import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { H2_CHANNELS } from '@berth/core-types';
import type { H2WindowMessage } from '@berth/core-types';
import { createTestConnector, startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { FaultProxy, TestServer } from '@berth/testkit';
import { createH2Multiplexer } from './multiplexer.js';
import type { H2Multiplexer } from './multiplexer.js';

let server: TestServer | undefined;
let proxy: FaultProxy | undefined;
const muxes: H2Multiplexer[] = [];

afterEach(async () => {
  await Promise.all(muxes.splice(0).map((m) => m.close({ deadlineMs: 100 })));
  await proxy?.close();
  await server?.close();
  proxy = undefined;
  server = undefined;
});

const BODY_BYTES = 3 * 1024 * 1024;

describe('adaptive flow-control window', () => {
  it('grows the window of the open stream and the connection to at least 1 MiB within one download on a 20 ms path, and keeps them fixed when turned off', async () => {
    server = await startHttpServer({ protocol: 'h2', behaviour: { bodyBytes: BODY_BYTES, chunkBytes: 16 * 1024 } });
    // 2 × 10 ms one-way: each 64 KiB window costs a 20 ms round trip, so the fixed window is the bottleneck.
    proxy = await startFaultProxy({ host: server.host, port: server.port }, { latencyMs: 10 });
    const connector = createTestConnector({ ca: (await testPki()).ca.cert, alpnProtocols: ['h2'] });
    const origin = `https://localhost:${proxy.port}`;
    const windows: H2WindowMessage[] = [];
    const onWindow = (msg: unknown) => windows.push(msg as H2WindowMessage);
    diagnostics.subscribe(H2_CHANNELS.window, onWindow);
    try {
      const adaptive = createH2Multiplexer(origin, { tls: connector, initialConnectionWindowBytes: 131_072 });
      muxes.push(adaptive);
      const res = await adaptive.request({ path: '/download' });
      expect((await res.arrayBuffer()).byteLength).toBe(BODY_BYTES);
      const grown = adaptive.stats().sessions[0];
      // One stream only: growing past 512 KiB takes a round trip that carried > 170 kB, which
      // that stream could only receive if its already-open window was enlarged (RFC 9113 §6.9.2).
      expect(grown?.streamWindowBytes).toBeGreaterThanOrEqual(1024 * 1024);
      expect(grown?.bdpBytes).toBe(grown?.streamWindowBytes);
      expect(grown?.connectionWindowBytes).toBeGreaterThanOrEqual(grown?.streamWindowBytes ?? Infinity);
      expect(grown?.rttMs).toBeGreaterThan(15);
      expect(windows.length).toBeGreaterThanOrEqual(4);
      expect(windows.map((w) => w.streamWindowBytes)).toEqual([...windows.map((w) => w.streamWindowBytes)].sort((a, b) => a - b));
      expect(windows[0]).toMatchObject({ sessionId: grown?.id, component: { kind: 'h2-multiplexer' } });

      const fixed = createH2Multiplexer(origin, { tls: connector, adaptiveWindow: false });
      muxes.push(fixed);
      const again = await fixed.request({ path: '/download' });
      expect((await again.arrayBuffer()).byteLength).toBe(BODY_BYTES);
      expect(fixed.stats().sessions[0]).toMatchObject({ streamWindowBytes: 65_536, bdpBytes: 65_536, connectionWindowBytes: 1_048_576 });
    } finally {
      diagnostics.unsubscribe(H2_CHANNELS.window, onWindow);
    }
  });
});
