import http2 from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { once } from 'node:events';
import type tls from 'node:tls';

/** One raw node:http2 session to `origin` over the shared SecureContext (the `raw-http2` peer). */
export async function rawSession(origin: string, secureContext: tls.SecureContext): Promise<ClientHttp2Session> {
  const session = http2.connect(origin, { secureContext, servername: 'localhost' });
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

/** GET `path` on a raw session; resolves when the body has been read, with its length. */
export function rawGet(session: ClientHttp2Session, path: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
    stream.end();
  });
}

/** Closes a raw session, waiting for it to go. */
export async function closeSession(session: ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return;
  const closed = once(session, 'close');
  session.close();
  await closed;
}
