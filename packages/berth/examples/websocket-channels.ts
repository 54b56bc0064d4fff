import { createBerth } from 'berth';

/** A WebSocket pool on the best region; a channel is a logical stream over one socket. */
export async function websocketChannels(origin: string, ca: string): Promise<string> {
  const berth = createBerth({ origin, tls: { ca, useSystemRoots: false }, protocol: 'h1' });
  try {
    const ws = berth.websocket('/stream', { pingIntervalMs: 20_000 });
    await ws.ready();
    const ticker = ws.channel('ticker');
    await ticker.send({ subscribe: 'BTC-USD' }); // resolves once written (or rejects with a code)
    for await (const message of ticker) return JSON.stringify(message); // first message back
    return 'no message';
  } finally {
    await berth.close();
  }
}
