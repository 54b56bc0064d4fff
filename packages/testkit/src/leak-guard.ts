import { liveResources } from './registry.js';

// Captured at import, before any test installs fake timers, so the guard can always wait.
const realSetTimeout = globalThis.setTimeout;

/** Resource types (from `process.getActiveResourcesInfo()`) a test must not leave behind. */
export const WATCHED_RESOURCES: readonly string[] = [
  'TCPSocketWrap',
  'TCPServerWrap',
  'TCPConnectWrap',
  'TLSWrap',
  'Timeout',
  'Immediate',
  'GetAddrInfoReqWrap',
  'UDPWrap',
];

/** Counts of watched resources alive now. */
export function activeResourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    if (WATCHED_RESOURCES.includes(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

/** What is alive now beyond `baseline`, e.g. `['2 TCPSocketWrap', 'fault proxy 127.0.0.1:4000 (1 connection)']`. */
export function leaksSince(baseline: ReadonlyMap<string, number>, checkServers = true): string[] {
  const leaks: string[] = [];
  for (const [type, count] of activeResourceCounts()) {
    const extra = count - (baseline.get(type) ?? 0);
    if (extra > 0) leaks.push(`${extra} ${type}`);
  }
  if (checkServers) {
    for (const resource of liveResources()) {
      const open = resource.connectionCount();
      if (open > 0) leaks.push(`${resource.label} (${open} open connection${open === 1 ? '' : 's'})`);
    }
  }
  return leaks;
}

/**
 * Waits up to `timeoutMs` (default 2000) for everything opened since `baseline` to close:
 * sockets, servers, ref'd timers, and the live connections of every testkit server and proxy
 * (the server side proves the client really closed). Returns what is still alive.
 */
export async function waitForNoLeaks(
  baseline: ReadonlyMap<string, number>,
  options: { timeoutMs?: number; checkServers?: boolean } = {},
): Promise<string[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 2000);
  for (;;) {
    const leaks = leaksSince(baseline, options.checkServers ?? true);
    if (leaks.length === 0 || Date.now() > deadline) return leaks;
    await new Promise((resolve) => realSetTimeout(resolve, 10));
  }
}
