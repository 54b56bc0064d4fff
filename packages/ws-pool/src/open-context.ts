/** A server frame, as the `onOpen` hook reads it. */
export interface WsFrame {
  /** Payload. */
  readonly data: Buffer;
  /** True for a binary frame. */
  readonly isBinary: boolean;
}

/**
 * What the `onOpen` hook gets: the fresh socket, before any channel frame or buffered message
 * is written. Typical use: send credentials, wait for the server's answer, throw if refused.
 */
export interface WsOpenContext {
  /** Id of the pooled socket, e.g. `wss://api.example.com#2`. */
  readonly socketId: string;
  /** Subprotocol the server chose (`''` when none). */
  readonly protocol: string;
  /** Writes a frame now, ahead of everything buffered. Resolves once handed to the kernel. */
  send(data: string | Buffer): Promise<void>;
  /** The next frame the server sends. Rejects if the socket ends first; bounded by `readyTimeoutMs`. */
  nextMessage(): Promise<WsFrame>;
}
