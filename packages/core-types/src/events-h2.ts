import type { BerthEvent, EventError } from './events.js';
import type { CloseReason, TlsHandshakeInfo } from './pool.js';
import type { Urgency } from './request.js';

/** Channels of `@berth/h2-multiplexer`. */
export const H2_CHANNELS = {
  /** {@link H2SessionCreatedMessage} */
  sessionCreated: 'berth:h2:session-created',
  /** {@link H2SessionClosedMessage} */
  sessionClosed: 'berth:h2:session-closed',
  /** {@link H2GoawayMessage} */
  goaway: 'berth:h2:goaway',
  /** {@link H2StreamsMessage} */
  streams: 'berth:h2:streams',
  /** {@link H2WindowMessage} */
  window: 'berth:h2:window',
  /** {@link H2PingMessage} */
  ping: 'berth:h2:ping',
  /** {@link H2RetryMessage} */
  retry: 'berth:h2:retry',
} as const;

/** An HTTP/2 session is ready (SETTINGS received). */
export interface H2SessionCreatedMessage extends BerthEvent {
  /** Session id. */
  readonly sessionId: string;
  /** Peer's SETTINGS_MAX_CONCURRENT_STREAMS as used for the stream cap. */
  readonly maxConcurrentStreams: number;
  /** TLS facts; absent for h2c. */
  readonly tls?: TlsHandshakeInfo;
}

/** An HTTP/2 session closed. */
export interface H2SessionClosedMessage extends BerthEvent {
  /** Session id. */
  readonly sessionId: string;
  /** Why it closed. */
  readonly reason: CloseReason;
  /** Its age, in milliseconds. */
  readonly ageMs: number;
  /** Streams it carried. */
  readonly streamCount: number;
  /** The error, when it closed because of one. */
  readonly error?: EventError;
}

/** The peer sent GOAWAY (RFC 9113 §6.8). */
export interface H2GoawayMessage extends BerthEvent {
  /** Session id. */
  readonly sessionId: string;
  /** HTTP/2 error code, e.g. 0 = NO_ERROR, 11 = ENHANCE_YOUR_CALM. */
  readonly errorCode: number;
  /** Highest stream id the peer may have processed. */
  readonly lastStreamId: number;
  /** Streams above it that will be retried elsewhere. */
  readonly retriedStreams: number;
}

/** Stream slots and the priority queue changed. */
export interface H2StreamsMessage extends BerthEvent {
  /** Open streams over all sessions. */
  readonly active: number;
  /** Stream capacity over all ready sessions. */
  readonly capacity: number;
  /** Queued requests per RFC 9218 urgency (index = urgency). */
  readonly queuedByUrgency: readonly number[];
}

/** The flow-control windows of a session changed (adaptive window). */
export interface H2WindowMessage extends BerthEvent {
  /** Session id. */
  readonly sessionId: string;
  /** Current bandwidth-delay-product estimate, in bytes. */
  readonly bdpBytes: number;
  /** Initial stream window now advertised, in bytes. */
  readonly streamWindowBytes: number;
  /** Connection window, in bytes. */
  readonly connectionWindowBytes: number;
  /** Smoothed RTT, in milliseconds. */
  readonly rttMs: number;
}

/** A PING round trip completed (or timed out). */
export interface H2PingMessage extends BerthEvent {
  /** Session id. */
  readonly sessionId: string;
  /** Round trip in milliseconds; absent on timeout. */
  readonly rttMs?: number;
  /** True when no PING ACK came in time and the session is being destroyed. */
  readonly timedOut: boolean;
}

/** A stream was retried on another session. */
export interface H2RetryMessage extends BerthEvent {
  /** Why: above GOAWAY's last-stream-id, REFUSED_STREAM, or a session found dead by PING. */
  readonly reason: 'goaway' | 'refused-stream' | 'ping-timeout' | 'session-error';
  /** The request's urgency. */
  readonly urgency: Urgency;
}
