import diagnosticsChannel from 'node:diagnostics_channel';
import type { Logger } from '@berth/core-types';

/** A subscriber of one channel. Receives the message as published (validated by the handler). */
export type ChannelHandler = (message: unknown) => void;

/**
 * Subscribes each handler to its channel and returns the function that unsubscribes them all
 * (idempotent). Each handler is wrapped: Node reports a subscriber's exception as an uncaught
 * exception in the publisher's process (`diagnostics_channel` docs, "Channel.publish"), so a
 * malformed message must cost one log line, never the application.
 */
export function subscribeAll(handlers: ReadonlyMap<string, ChannelHandler>, logger: Logger, subscriber: string): () => void {
  const subscribed: [string, (message: unknown, name: string | symbol) => void][] = [];
  for (const [channel, handler] of handlers) {
    const safe = (message: unknown): void => {
      try {
        handler(message);
      } catch (error) {
        try {
          logger.warn(`${subscriber}: could not handle a ${channel} event`, {
            channel,
            error: error instanceof Error ? error.message : String(error),
          });
        } catch {
          // The logger itself failed; the event is lost, the publisher must not be.
        }
      }
    };
    diagnosticsChannel.subscribe(channel, safe);
    subscribed.push([channel, safe]);
  }
  return () => {
    for (const [channel, safe] of subscribed.splice(0)) diagnosticsChannel.unsubscribe(channel, safe);
  };
}
