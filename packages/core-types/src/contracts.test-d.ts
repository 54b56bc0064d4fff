import { describe, expectTypeOf, it } from 'vitest';
import type {
  Clock,
  ConnectionInfo,
  PoolStats,
  RequestOptions,
  ResizablePool,
  ResponseData,
  TlsConnector,
  Transport,
  TransportStats,
  Urgency,
} from './index.js';
import type { TLSSocket } from 'node:tls';

describe('contracts', () => {
  it('a Transport resolves to ResponseData with meta', () => {
    expectTypeOf<Transport['request']>().parameter(0).toEqualTypeOf<RequestOptions>();
    expectTypeOf<Transport['request']>().returns.resolves.toEqualTypeOf<ResponseData>();
    expectTypeOf<ResponseData['meta']['reused']>().toEqualTypeOf<boolean>();
    expectTypeOf<ResponseData['meta']['protocol']>().toEqualTypeOf<'http/1.1' | 'h2'>();
  });

  it('PoolStats is a TransportStats, so a pool can sit wherever a transport stats is read', () => {
    expectTypeOf<PoolStats>().toExtend<TransportStats>();
    expectTypeOf<ResizablePool['stats']>().returns.toEqualTypeOf<PoolStats>();
  });

  it('priority is an RFC 9218 urgency, not any number', () => {
    expectTypeOf<RequestOptions['priority']>().toEqualTypeOf<Urgency | undefined>();
    // @ts-expect-error 8 is not an urgency
    const bad: Urgency = 8;
    void bad;
  });

  it('connection TLS facts are optional (cleartext) but complete when present', () => {
    expectTypeOf<NonNullable<ConnectionInfo['tls']>>().toHaveProperty('resumed').toEqualTypeOf<boolean>();
    expectTypeOf<NonNullable<ConnectionInfo['tls']>>().toHaveProperty('handshakeMs').toEqualTypeOf<number>();
  });

  it('the TLS connector dials a TLSSocket', () => {
    expectTypeOf<TlsConnector['connect']>().returns.toEqualTypeOf<TLSSocket>();
  });

  it('a Clock has monotonic and wall time', () => {
    expectTypeOf<Clock['now']>().returns.toEqualTypeOf<number>();
    expectTypeOf<Clock['wallNow']>().returns.toEqualTypeOf<number>();
  });
});
