import { createBerth } from 'berth';

/** One upstream: the protocol is chosen by ALPN, connections are pre-warmed and reused. */
export async function singleOrigin(origin: string, ca: string): Promise<string> {
  const berth = createBerth({
    origin,
    tls: { ca, useSystemRoots: false }, // your private CA; omit `tls` for public roots
    pool: { minIdle: 2 },
  });
  try {
    await berth.ready();
    const res = await berth.request({ method: 'GET', path: '/v1/models', timeoutMs: 5_000 });
    const body = await res.text();
    return `${res.status} over ${res.meta.protocol}, reused=${res.meta.reused}: ${body}`;
  } finally {
    await berth.close();
  }
}
