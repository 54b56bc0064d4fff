import { describe, expect, it } from 'vitest';
import { createJsonEnvelopeCodec, jsonEnvelopeCodec } from './codec.js';

const decode = (text: string, binary = false) => jsonEnvelopeCodec.decode(Buffer.from(text), binary);

describe('JSON envelope codec', () => {
  it('encodes messages with and without a sequence number, and control frames', () => {
    expect(jsonEnvelopeCodec.encodeMessage('c', { a: 1 }, undefined)).toBe('{"c":"c","d":{"a":1}}');
    expect(jsonEnvelopeCodec.encodeMessage('c', 'x', 4)).toBe('{"c":"c","s":4,"d":"x"}');
    expect(jsonEnvelopeCodec.encodeSubscribe('c')).toBe('{"t":"sub","c":"c"}');
    expect(jsonEnvelopeCodec.encodeUnsubscribe('c')).toBe('{"t":"unsub","c":"c"}');
  });

  it('decodes channel messages and acks, and leaves everything else to the raw handler', () => {
    expect(decode('{"c":"a","d":1}')).toEqual({ type: 'message', channel: 'a', data: 1 });
    expect(decode('{"c":"a","d":1,"s":9}')).toEqual({ type: 'message', channel: 'a', data: 1, seq: 9 });
    expect(decode('{"t":"ack","c":"a","s":3}')).toEqual({ type: 'ack', channel: 'a', seq: 3 });
    expect(decode('{"t":"ack","c":"a"}')).toBeUndefined();
    expect(decode('{"t":"other","c":"a"}')).toBeUndefined();
    expect(decode('{"d":1}')).toBeUndefined();
    expect(decode('{not json')).toBeUndefined();
    expect(decode('null')).toBeUndefined();
    expect(decode('{"c":"a","d":1}', true)).toBeUndefined();
    expect(decode('{"c":"a","s":1.5,"d":1}')).toEqual({ type: 'message', channel: 'a', data: 1 });
  });

  it('decodes the going-away hint, with or without a reason', () => {
    expect(decode('{"t":"goaway"}')).toEqual({ type: 'going-away' });
    expect(decode('{"t":"goaway","r":"deploy"}')).toEqual({ type: 'going-away', reason: 'deploy' });
    expect(decode('{"t":"goaway","r":7}')).toEqual({ type: 'going-away' });
  });

  it('builds subscribe frames from hooks, or none', () => {
    const codec = createJsonEnvelopeCodec({
      subscribe: (channel) => ({ op: 'subscribe', args: [channel] }),
      unsubscribe: () => undefined,
    });
    expect(codec.encodeSubscribe('trades')).toBe('{"op":"subscribe","args":["trades"]}');
    expect(codec.encodeUnsubscribe('trades')).toBeUndefined();
  });
});
