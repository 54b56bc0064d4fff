/** Options of a {@link BdpEstimator}. */
export interface BdpEstimatorOptions {
  /** Window the session starts with, bytes: the first estimate. */
  readonly initialWindowBytes: number;
  /** Largest window the estimator may return, bytes (16 MiB in hyper and grpc-go). */
  readonly maxWindowBytes: number;
  /** Delay between BDP pings once the window stopped growing, before it stretches, milliseconds. Default 100 (hyper). */
  readonly initialPingDelayMs?: number;
  /** The delay stops growing once it reaches this, milliseconds. Default 10 000 (hyper). */
  readonly maxPingDelayMs?: number;
}

/**
 * A round trip's delivery rate must beat the best one seen before by this factor to count as
 * the window still being the limit (BBR's startup "full pipe" test uses the same 25 %).
 */
const GAIN = 1.25;

/**
 * Bandwidth-delay-product estimator for HTTP/2 receive windows. The method is hyper's
 * (`hyperium/hyper: src/proto/h2/ping.rs`, `Bdp::calculate`; grpc-go's `bdp_estimator.go` is
 * the same): a PING goes out while data flows, and the bytes received until its ACK are what
 * the path carried in one round trip. Three changes make it actually ramp up behind
 * node:http2, where hyper's rule stalls at 128 KiB (measured: 3 MB/s on a 20 ms path whose
 * ceiling is ~50 MB/s):
 *
 * - **Window-limited means ≥ ⅓ window, not ≥ ⅔.** nghttp2 (as node drives it) sends
 *   WINDOW_UPDATE only after half of a window was consumed, so a transfer that the window
 *   limits carries well under one window per round trip (measured ~0.63 at 128 KiB), and the
 *   probe right after a growth sees only the old window plus the increase (½ of the new
 *   one). Hyper's ⅔ of a bdp of 2 × sample could never be met again.
 * - **Growth doubles the window** (or 2 × the sample when several streams carried more than
 *   one window), instead of 2 × sample, which at ~0.6 window per round trip barely grows.
 * - **Growth needs the delivery rate to rise by ≥ 25 % over the best seen** (BBR's full-pipe
 *   test), measured with this round trip's own RTT. Hyper compares `bytes / (1.5·EWMA(rtt))`
 *   with a running maximum, so one noisy sample (GC, a shared CPU) that raised the EWMA or
 *   the maximum blocked growth for good. Once the path, not the window, is the limit,
 *   queueing stretches the RTT and the rate stops rising, so growth stops there (memory
 *   stays bounded) yet resumes if the rate rises later.
 *
 * While the window grows, probes run back to back (delay 0, as grpc-go pings on every DATA
 * frame); two rounds without growth set the delay to its initial value and then ×4 each
 * two rounds, up to 10 s (hyper). The RTT is still smoothed (α = 1/8) for stats.
 *
 * Pure: no timers, no I/O, so it is tested exactly; the session drives it.
 */
export class BdpEstimator {
  readonly #max: number;
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  #bdp: number;
  #rtt = 0;
  #maxBandwidth = 0;
  #delay = 0;
  #stableCount = 0;

  constructor(options: BdpEstimatorOptions) {
    this.#bdp = Math.min(options.initialWindowBytes, options.maxWindowBytes);
    this.#max = options.maxWindowBytes;
    this.#initialDelay = options.initialPingDelayMs ?? 100;
    this.#maxDelay = options.maxPingDelayMs ?? 10_000;
  }

  /** Current estimate (the window to advertise), bytes. */
  get bdpBytes(): number {
    return this.#bdp;
  }

  /** Smoothed round-trip time, milliseconds (0 before the first sample). */
  get rttMs(): number {
    return this.#rtt;
  }

  /** Highest delivery rate seen while the window was the limit, bytes per millisecond. */
  get maxBandwidth(): number {
    return this.#maxBandwidth;
  }

  /** Milliseconds to wait after an ACK before the next BDP ping (0 while the window grows). */
  get pingDelayMs(): number {
    return this.#delay;
  }

  /** True once the window reached its cap; probing can stop. */
  get saturated(): boolean {
    return this.#bdp >= this.#max;
  }

  /**
   * Feeds one round trip: `bytes` received between sending the PING and its ACK, over
   * `rttMs`. Returns the new window when it grew, else `undefined`.
   */
  sample(bytes: number, rttMs: number): number | undefined {
    const rtt = Math.max(rttMs, 0.001);
    this.#rtt = this.#rtt === 0 ? rtt : this.#rtt + (rtt - this.#rtt) * 0.125;
    // Below a third of a window the window was not what limited this round trip (the
    // server, the reader or the path was), so a bigger one would not help.
    if (this.saturated || bytes < this.#bdp / 3) {
      this.#stabilize();
      return undefined;
    }
    const bandwidth = bytes / rtt;
    if (bandwidth < this.#maxBandwidth * GAIN) {
      this.#maxBandwidth = Math.max(this.#maxBandwidth, bandwidth);
      this.#stabilize();
      return undefined;
    }
    this.#maxBandwidth = bandwidth;
    this.#bdp = Math.min(2 * Math.max(this.#bdp, bytes), this.#max);
    this.#stableCount = 0;
    this.#delay = 0;
    return this.#bdp;
  }

  #stabilize(): void {
    this.#stableCount += 1;
    if (this.#stableCount < 2) return;
    this.#stableCount = 0;
    this.#delay = this.#delay < this.#initialDelay ? this.#initialDelay : Math.min(this.#delay * 4, this.#maxDelay);
  }
}
