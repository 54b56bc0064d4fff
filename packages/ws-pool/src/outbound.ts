import type { BerthError } from '@berth/core-types';

/** How a `send()` ended well: handed to the kernel, or acknowledged by the server (`acks: true`). */
export type WsSendResult = 'written' | 'acked';

/** What a message waiting for an ack reports back to. @internal */
export interface AckSink {
  /** Channel name. */
  readonly name: string;
  /** Called once, when the message is written for the first time (it joins the unacked window). */
  firstWrite(message: Outbound): void;
  /** True while the unacked window is full: the message must wait. */
  windowFull(): boolean;
}

/**
 * One message on its way out: buffered, written (waiting for the send callback) and, with
 * acks, waiting for the server's acknowledgement. Settles exactly once. @internal
 */
export class Outbound {
  /** Wire bytes. */
  readonly data: string | Buffer;
  /** Payload size in bytes (what buffer limits count). */
  readonly bytes: number;
  /** Channel name, for events. */
  readonly channel: string | undefined;
  /** Sequence number within the channel (acks only). */
  readonly seq: number | undefined;
  /** Where acks are tracked, when the message needs one. */
  readonly ackSink: AckSink | undefined;
  /** The channel (or lease) that sent it, by identity: names can be reused after a close. */
  readonly owner: object | undefined;
  /** Monotonic ms after which it may no longer be written. */
  readonly expiresAt: number;
  /** Set once it has been written at least once. */
  written = false;
  #settled = false;
  readonly #resolve: (result: WsSendResult) => void;
  readonly #reject: (error: BerthError) => void;

  constructor(
    fields: {
      data: string | Buffer;
      channel: string | undefined;
      seq: number | undefined;
      ackSink: AckSink | undefined;
      owner?: object;
      expiresAt: number;
    },
    resolve: (result: WsSendResult) => void,
    reject: (error: BerthError) => void,
  ) {
    this.data = fields.data;
    this.bytes = typeof fields.data === 'string' ? Buffer.byteLength(fields.data) : fields.data.byteLength;
    this.channel = fields.channel;
    this.seq = fields.seq;
    this.ackSink = fields.ackSink;
    this.owner = fields.owner;
    this.expiresAt = fields.expiresAt;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Creates a message and the promise its sender awaits. */
  static create(fields: ConstructorParameters<typeof Outbound>[0]): { message: Outbound; promise: Promise<WsSendResult> } {
    let resolve!: (result: WsSendResult) => void;
    let reject!: (error: BerthError) => void;
    const promise = new Promise<WsSendResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { message: new Outbound(fields, resolve, reject), promise };
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves the sender's promise (first settlement wins). */
  settle(result: WsSendResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(result);
  }

  /** Rejects the sender's promise (first settlement wins). */
  fail(error: BerthError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
