import type { CloseReason, ConnectionInfo, TransportStats } from '@berth/core-types';
import type { H2RetryMessage } from '@berth/core-types';

/** Why a request was replayed on another stream. */
export type RetryReason = H2RetryMessage['reason'];

/** One session as `stats()` shows it. */
export interface H2SessionStats extends ConnectionInfo {
  /** Always `h2`. */
  readonly protocol: 'h2';
  /** Past its maximum age, still serving until its replacement is ready. */
  readonly retiring: boolean;
  /** Open streams. */
  readonly activeStreams: number;
  /** Streams this side reset whose RST_STREAM is not yet confirmed by a PING ACK; they still hold slots. */
  readonly pendingResets: number;
  /** Stream cap in force: min(`maxConcurrentStreams`, the peer's SETTINGS value). */
  readonly maxStreams: number;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (100 assumed until SETTINGS arrive). */
  readonly peerMaxStreams: number;
  /** Last PING round trip (keep-alive) or smoothed BDP RTT, milliseconds; absent before the first. */
  readonly rttMs?: number;
  /** Initial stream receive window now advertised (SETTINGS_INITIAL_WINDOW_SIZE), bytes. */
  readonly streamWindowBytes: number;
  /** Connection receive window set with `setLocalWindowSize`, bytes. */
  readonly connectionWindowBytes: number;
  /** Bandwidth-delay-product estimate, bytes (the stream window when adaptive windows are off). */
  readonly bdpBytes: number;
  /** nghttp2's current connection receive window (`session.state.localWindowSize`), bytes. */
  readonly localWindowBytes?: number;
  /** nghttp2's current connection send window (`session.state.remoteWindowSize`), bytes. */
  readonly remoteWindowBytes?: number;
  /** Frames waiting in nghttp2's outbound queue. */
  readonly outboundQueueSize?: number;
}

/** The snapshot of an {@link H2Multiplexer}. */
export interface H2MultiplexerStats extends TransportStats {
  /** Always `h2-multiplexer`. */
  readonly kind: 'h2-multiplexer';
  /** The origin served. */
  readonly origin: string;
  /** Every session not yet closed. */
  readonly sessions: readonly H2SessionStats[];
  /** Open streams over all sessions. */
  readonly activeStreams: number;
  /** Stream slots over all sessions that take streams. */
  readonly capacity: number;
  /** Queued requests per RFC 9218 urgency (index = urgency). */
  readonly queuedByUrgency: readonly number[];
  /** Sessions that became ready since creation. */
  readonly sessionsCreated: number;
  /** Dials that failed. */
  readonly connectErrors: number;
  /** Sessions closed, by reason. */
  readonly sessionsClosed: Readonly<Record<CloseReason, number>>;
  /** GOAWAY frames received. */
  readonly goaways: number;
  /** Requests replayed, by reason. */
  readonly retries: Readonly<Record<RetryReason, number>>;
  /** Requests rejected because the queue was full. */
  readonly rejected: number;
  /** Current keep-alive interval, milliseconds (doubles after GOAWAY ENHANCE_YOUR_CALM). */
  readonly pingIntervalMs: number;
}
