import type { Clock, Logger } from '@berth/core-types';
import type { TlsEvents } from './events.js';

const DAY_MS = 86_400_000;

/**
 * Warns (Logger + `berth:tls:cert-expiring`) when a peer or client certificate expires within
 * the configured number of days. Each certificate is reported once per config, so a busy
 * pool does not log on every handshake.
 */
export class ExpiryWatch {
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #events: TlsEvents;
  readonly #reported = new Set<string>();

  constructor(options: { readonly days: number; readonly clock: Clock; readonly logger: Logger; readonly events: TlsEvents }) {
    this.#windowMs = options.days * DAY_MS;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#events = options.events;
  }

  /** Reports `subject` if it expires within the window (and was not reported before). */
  check(which: 'peer' | 'client', subject: string, validTo: number): void {
    if (this.#windowMs === 0 || !Number.isFinite(validTo)) return;
    const leftMs = validTo - this.#clock.wallNow();
    if (leftMs > this.#windowMs) return;
    const key = `${which}\n${subject}\n${validTo}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    const daysLeft = Math.floor(leftMs / DAY_MS);
    const when = new Date(validTo).toISOString();
    this.#logger.warn(
      leftMs <= 0
        ? `TLS ${which} certificate "${subject}" expired at ${when}`
        : `TLS ${which} certificate "${subject}" expires in ${daysLeft} day(s), at ${when}`,
      { which, subject, validTo: when, daysLeft },
    );
    this.#events.certExpiring(which, subject, validTo, daysLeft);
  }
}
