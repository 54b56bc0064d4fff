/** Options of a {@link BdpEstimator}. */
export interface BdpEstimatorOptions {
  /** Window the session starts with, bytes: the first estimate. */
  readonly initialWindowBytes: number;
  /** Largest window the estimator may return, bytes (16 MiB in hyper and grpc-go). */
  readonly maxWindowBytes: number;
  /** First delay between BDP pings, milliseconds. Default 100 (hyper). */
  readonly initialPingDelayMs?: number;
  /** The delay stops growing once it reaches this, milliseconds. Default 10 000 (hyper). */
  readonly maxPingDelayMs?: number;
}

/**
 * Bandwidth-delay-product estimator for HTTP/2 receive windows, ported from hyper
 * (`hyperium/hyper: src/proto/h2/ping.rs`, `Bdp::calculate`); grpc-go's
 * `internal/transport/bdp_estimator.go` is the same method.
 *
 * A PING goes out while data flows; the bytes received until its ACK are what the path
 * carried in one round trip. When that sample reaches ⅔ of the current window, the window is
 * what limits the transfer, so it doubles to 2 × sample (capped). The RTT is an EWMA with
 * α = 1/8; a sample whose bandwidth `bytes / (1.5·rtt)` is not a new maximum changes nothing.
 * Growth halves the delay between probes; two stable rounds multiply it by 4, up to 10 s.
 *
 * Pure: no timers, no I/O, so it is tested exactly; the session drives it.
 */
export class BdpEstimator {
  readonly #max: number;
  readonly #maxDelay: number;
  #bdp: number;
  #rtt = 0;
  #maxBandwidth = 0;
  #delay: number;
  #stableCount = 0;

  constructor(options: BdpEstimatorOptions) {
    this.#bdp = Math.min(options.initialWindowBytes, options.maxWindowBytes);
    this.#max = options.maxWindowBytes;
    this.#delay = options.initialPingDelayMs ?? 100;
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

  /** Highest bandwidth seen, bytes per millisecond. */
  get maxBandwidth(): number {
    return this.#maxBandwidth;
  }

  /** Milliseconds to wait after an ACK before the next BDP ping. */
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
    if (this.saturated) {
      this.#stabilize();
      return undefined;
    }
    const rtt = Math.max(rttMs, 0.001);
    this.#rtt = this.#rtt === 0 ? rtt : this.#rtt + (rtt - this.#rtt) * 0.125;
    const bandwidth = bytes / (this.#rtt * 1.5);
    if (bandwidth < this.#maxBandwidth) {
      this.#stabilize();
      return undefined;
    }
    this.#maxBandwidth = bandwidth;
    if (bytes >= (this.#bdp * 2) / 3) {
      this.#bdp = Math.min(bytes * 2, this.#max);
      this.#stableCount = 0;
      this.#delay /= 2;
      return this.#bdp;
    }
    this.#stabilize();
    return undefined;
  }

  #stabilize(): void {
    if (this.#delay >= this.#maxDelay) return;
    this.#stableCount += 1;
    if (this.#stableCount >= 2) {
      this.#delay = Math.min(this.#delay * 4, this.#maxDelay);
      this.#stableCount = 0;
    }
  }
}
