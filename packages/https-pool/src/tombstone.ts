import type { BerthError } from '@berth/core-types';

/**
 * What the slot factory returns instead of rejecting. generic-pool 3.9 never settles an
 * `acquire()` whose create keeps rejecting and re-dispenses in a tight loop
 * (coopernurse/node-pool#175, #183, #273; the fix, PR #221, was never merged). Resolving with
 * a tombstone instead hands the connect error to exactly the waiter that asked for the
 * connection, so the waiter fails with the real cause and generic-pool's queue never holds
 * an orphan. While `freshUntil` (the end of the connect backoff) has not passed, a tombstone
 * left idle fails the next borrower fast with the same cause (an open circuit); after it,
 * borrowing it triggers a new connect attempt.
 */
export class Tombstone {
  /** The failure to hand to the borrower. */
  readonly error: BerthError;
  /** Monotonic ms until which borrowers fail fast. */
  readonly freshUntil: number;

  constructor(error: BerthError, freshUntil: number) {
    this.error = error;
    this.freshUntil = freshUntil;
  }
}
