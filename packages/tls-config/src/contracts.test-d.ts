import type { ClientSessionOptions } from 'node:http2';
import type { Socket } from 'node:net';
import { describe, expectTypeOf, it } from 'vitest';
import type { TlsConnector } from '@berth/core-types';
import type { TlsConfig, UndiciConnector } from './index.js';

/** undici 7's `buildConnector.connector`, copied from `types/connector.d.ts` (this package cannot import undici). */
type UndiciBuildConnector = (
  options: {
    hostname: string;
    host?: string;
    protocol: string;
    port: string;
    servername?: string;
    localAddress?: string | null;
    httpSocket?: Socket;
  },
  callback: (...args: [null, Socket] | [Error, null]) => void,
) => void;

describe('tls-config contracts', () => {
  it('is itself the TlsConnector the pools consume', () => {
    expectTypeOf<TlsConfig>().toExtend<TlsConnector>();
  });

  it('plugs into undici, node:http2 and ws', () => {
    expectTypeOf<UndiciConnector>().toExtend<UndiciBuildConnector>();
    expectTypeOf<ReturnType<TlsConfig['http2Options']>>().toExtend<ClientSessionOptions>();
    expectTypeOf<ReturnType<TlsConfig['wsOptions']>['createConnection']>().returns.toExtend<Socket>();
  });
});
