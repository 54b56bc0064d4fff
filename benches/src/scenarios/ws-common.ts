import { once } from 'node:events';
import type tls from 'node:tls';
import WebSocket from 'ws';

/** Opens a raw `ws` client (the `raw-ws` peer): shared SecureContext, no permessage-deflate. */
export async function openRawWs(url: string, secureContext: tls.SecureContext, timeoutMs = 30_000): Promise<WebSocket> {
  // ws hands unknown options to https.request, so the shared context reaches tls.connect.
  const options: WebSocket.ClientOptions & Pick<tls.ConnectionOptions, 'secureContext' | 'servername'> = {
    secureContext,
    servername: 'localhost',
    perMessageDeflate: false,
    handshakeTimeout: timeoutMs,
  };
  const ws = new WebSocket(url, options);
  ws.on('error', () => {});
  const [opened] = await Promise.race([once(ws, 'open').then(() => [true]), once(ws, 'close').then(() => [false])]);
  if (opened !== true) throw new Error(`raw ws to ${url} did not open`);
  return ws;
}

/** Closes raw sockets without waiting for the closing handshake. */
export function terminateAll(sockets: Iterable<WebSocket>): void {
  for (const ws of sockets) ws.terminate();
}
