/**
 * Per-connection message pacing: a token bucket refilled continuously at `perSec`, holding at
 * most `burst` tokens, one token per message written.
 *
 * Hand-written rather than taken from `@berth/resilience` (whose limiter is async, keyed and
 * store-backed): functional packages depend only on core-types, and the send path needs a
 * synchronous "may this message go now?" plus "when may the next one?" to pace its buffer
 * with a single timer. Servers meter per connection (e.g. 10 messages/s on some exchange
 * feeds, with disconnects or bans past it), so each connection starts with a full bucket.
 */
export class SendRate {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(perSec: number, burst: number, now: number) {
    this.#perMs = perSec / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token when one is available at `now`. */
  tryTake(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds from `now` until a token is available (0 when one is). */
  waitMs(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
  }
}
