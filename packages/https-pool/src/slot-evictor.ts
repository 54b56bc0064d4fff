import type { Connection } from './connection.js';
import type { Tombstone } from './tombstone.js';

/** The one question generic-pool's evictor asks about an idle slot. */
export type EvictDecision = (slot: Connection | Tombstone, availableCount: number) => boolean;

/**
 * Builds an evictor class for generic-pool's `Pool` constructor (its exported extension
 * point). The default evictor only compares generic-pool's own idle timestamp and never runs
 * unless `evictionRunIntervalMillis` is set (ANCHORS §2); this one asks the pool, which also
 * removes slots closed by lifetime, keep-alive expiry, failed validation or a shrink.
 */
export function evictorFor(decide: EvictDecision): new () => { evict(config: unknown, resource: { obj: Connection | Tombstone }, available: number): boolean } {
  return class SlotEvictor {
    evict(_config: unknown, resource: { obj: Connection | Tombstone }, available: number): boolean {
      return decide(resource.obj, available);
    }
  };
}
