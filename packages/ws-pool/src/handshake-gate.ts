/** A place in the {@link HandshakeGate}'s line. */
export interface GateTicket {
  /** Resolves when the holder may start its handshake. */
  readonly granted: Promise<void>;
  /** Frees the slot (or leaves the line). Idempotent. */
  release(): void;
}

/**
 * Limits how many opening handshakes run at once across a pool, first come first served, so a
 * server restart is not met with `size` TLS handshakes in the same millisecond.
 */
export class HandshakeGate {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  /** @param limit handshakes allowed at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Handshakes running now. */
  get running(): number {
    return this.#running;
  }

  /** Joins the line. */
  enter(): GateTicket {
    let state: 'waiting' | 'holding' | 'done' = 'waiting';
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => {
      grant = () => {
        state = 'holding';
        this.#running += 1;
        resolve();
      };
    });
    if (this.#running < this.#limit) grant();
    else this.#waiting.push(grant);
    return {
      granted,
      release: () => {
        if (state === 'holding') {
          this.#running -= 1;
          this.#waiting.shift()?.();
        } else if (state === 'waiting') {
          const index = this.#waiting.indexOf(grant);
          if (index >= 0) this.#waiting.splice(index, 1);
        }
        state = 'done';
      },
    };
  }
}
