/** A candidate socket for a new channel. @internal */
export interface PlacementCandidate {
  /** Stable slot index (survives reconnects and rotations). */
  readonly slot: number;
  /** Channels placed on it. */
  readonly channels: number;
  /** Buffered + in-flight bytes. */
  readonly load: number;
  /** False when the socket is `errored`. */
  readonly healthy: boolean;
}

/** 32-bit FNV-1a with a murmur3 finalizer: cheap, well mixed, same result in every process. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Chooses the slot for a channel, or `undefined` when every slot holds `maxPerSocket` channels.
 *
 * - With a `key`: rendezvous (highest-random-weight) hashing (Thaler & Ravishankar, 1998), so a
 *   key keeps its slot across restarts and only 1/n of the keys move when the pool grows —
 *   unlike ccxt's sticky map, which is never freed. A full or errored slot falls to the next
 *   best score.
 * - Without: least-loaded (fewest channels, then fewest bytes waiting), healthy slots first.
 */
export function chooseSlot(
  candidates: readonly PlacementCandidate[],
  maxPerSocket: number,
  key: string | undefined,
): number | undefined {
  const open = candidates.filter((c) => c.channels < maxPerSocket);
  if (open.length === 0) return undefined;
  const ranked =
    key === undefined
      ? [...open].sort((a, b) => a.channels - b.channels || a.load - b.load || a.slot - b.slot)
      : [...open].sort((a, b) => hash32(`${key}\u0000${b.slot}`) - hash32(`${key}\u0000${a.slot}`));
  return (ranked.find((c) => c.healthy) ?? ranked[0])?.slot;
}
