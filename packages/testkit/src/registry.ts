/**
 * Every server and proxy the testkit starts registers here until it is closed, so the leak
 * guard can wait for their live connection counts to reach zero after each test
 * (connect-es does the same) and name whatever a test left open.
 */
export interface TrackedResource {
  /** Human-readable, e.g. `https server 127.0.0.1:40123`. */
  readonly label: string;
  /** Live TCP connections accepted by it. */
  connectionCount(): number;
}

const live = new Set<TrackedResource>();

/** @internal */
export function track(resource: TrackedResource): () => void {
  live.add(resource);
  return () => live.delete(resource);
}

/** Resources currently open. */
export function liveResources(): readonly TrackedResource[] {
  return [...live];
}
