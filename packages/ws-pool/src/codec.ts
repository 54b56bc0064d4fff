/** A frame from the server, as the codec understood it. */
export type WsInbound =
  /** Data for a channel. `seq`, when the server numbers its messages, lets the channel drop duplicates. */
  | { readonly type: 'message'; readonly channel: string; readonly data: unknown; readonly seq?: number }
  /** The server has every message of `channel` up to and including `seq` (cumulative). */
  | { readonly type: 'ack'; readonly channel: string; readonly seq: number }
  /**
   * The server announces it will close this connection soon (draining, deploy, rebalancing:
   * Discord's RECONNECT, Slack's `disconnect`, an HTTP/2 GOAWAY in spirit). The pool replaces
   * the socket make-before-break at once: the new one is dialled, made ready and subscribed,
   * and takes the channels and the buffer before the old one closes.
   */
  | { readonly type: 'going-away'; readonly reason?: string };

/**
 * The wire format of channels. Subscribe / unsubscribe frames are re-derived from the channel
 * registry on every (re)connect, never replayed from a log.
 */
export interface WsCodec {
  /** Encodes one channel message; `seq` is set when the pool runs with `acks: true`. */
  encodeMessage(channel: string, data: unknown, seq: number | undefined): string | Buffer;
  /** The frame that subscribes to `channel`, or `undefined` when the protocol needs none. */
  encodeSubscribe(channel: string): string | Buffer | undefined;
  /** The frame that unsubscribes, or `undefined`. */
  encodeUnsubscribe(channel: string): string | Buffer | undefined;
  /** Decodes a server frame; `undefined` hands it to the pool's raw `onMessage` instead. */
  decode(data: Buffer, isBinary: boolean): WsInbound | undefined;
}

/** Hooks that adapt {@link createJsonEnvelopeCodec}'s control frames to a server's protocol. */
export interface JsonEnvelopeHooks {
  /** Builds the subscribe frame's JSON value. Default `{ t: 'sub', c: channel }`; return `undefined` for none. */
  readonly subscribe?: (channel: string) => unknown;
  /** Builds the unsubscribe frame's JSON value. Default `{ t: 'unsub', c: channel }`; return `undefined` for none. */
  readonly unsubscribe?: (channel: string) => unknown;
}

interface Envelope {
  readonly t?: unknown;
  readonly c?: unknown;
  readonly s?: unknown;
  readonly d?: unknown;
  readonly r?: unknown;
}

/**
 * The default codec: a small JSON envelope, one text frame per message.
 *
 * - message: `{"c":"<channel>","s":<seq>,"d":<data>}` (`s` only with acks)
 * - subscribe / unsubscribe: `{"t":"sub","c":"<channel>"}` / `{"t":"unsub","c":"<channel>"}`
 * - from the server: `{"c":"<channel>","d":<data>,"s":<seq>?}`, acks `{"t":"ack","c":"<channel>","s":<seq>}`
 *   and the going-away hint `{"t":"goaway","r":"<reason>"?}`
 */
export function createJsonEnvelopeCodec(hooks: JsonEnvelopeHooks = {}): WsCodec {
  const frame = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));
  return {
    encodeMessage: (channel, data, seq) =>
      JSON.stringify(seq === undefined ? { c: channel, d: data } : { c: channel, s: seq, d: data }),
    encodeSubscribe: (channel) => frame(hooks.subscribe === undefined ? { t: 'sub', c: channel } : hooks.subscribe(channel)),
    encodeUnsubscribe: (channel) =>
      frame(hooks.unsubscribe === undefined ? { t: 'unsub', c: channel } : hooks.unsubscribe(channel)),
    decode(data, isBinary) {
      // A cheap first-byte test keeps non-envelope traffic (raw sends, binary) off JSON.parse.
      if (isBinary || data[0] !== 0x7b) return undefined;
      let value: Envelope;
      try {
        value = JSON.parse(data.toString('utf8')) as Envelope;
      } catch {
        return undefined;
      }
      if (typeof value !== 'object' || value === null) return undefined;
      if (value.t === 'goaway') return typeof value.r === 'string' ? { type: 'going-away', reason: value.r } : { type: 'going-away' };
      if (typeof value.c !== 'string') return undefined;
      const seq = typeof value.s === 'number' && Number.isSafeInteger(value.s) ? value.s : undefined;
      if (value.t === 'ack') return seq === undefined ? undefined : { type: 'ack', channel: value.c, seq };
      if (value.t !== undefined) return undefined;
      return seq === undefined
        ? { type: 'message', channel: value.c, data: value.d }
        : { type: 'message', channel: value.c, data: value.d, seq };
    },
  };
}

/** {@link createJsonEnvelopeCodec} with the default frames. */
export const jsonEnvelopeCodec: WsCodec = createJsonEnvelopeCodec();
