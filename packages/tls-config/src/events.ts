import { channel } from 'node:diagnostics_channel';
import { TLS_CHANNELS } from '@berth/core-types';
import type {
  BerthError,
  CertExpiringMessage,
  ComponentIdentity,
  TlsHandshakeErrorMessage,
  TlsHandshakeInfo,
  TlsHandshakeMessage,
  TlsReloadMessage,
} from '@berth/core-types';

const handshakeChannel = channel(TLS_CHANNELS.handshake);
const handshakeErrorChannel = channel(TLS_CHANNELS.handshakeError);
const certExpiringChannel = channel(TLS_CHANNELS.certExpiring);
const reloadChannel = channel(TLS_CHANNELS.reload);

/** Publishes the `berth:tls:*` events of one config; each message is built only when someone listens. */
export class TlsEvents {
  readonly #name: string;

  constructor(name: string) {
    this.#name = name;
  }

  #component(host?: string, port?: number): ComponentIdentity {
    return host === undefined
      ? { kind: 'tls-config', name: this.#name }
      : { kind: 'tls-config', name: this.#name, origin: `https://${host.includes(':') ? `[${host}]` : host}:${port}` };
  }

  handshake(host: string, port: number, info: TlsHandshakeInfo): void {
    if (!handshakeChannel.hasSubscribers) return;
    const message: TlsHandshakeMessage = { component: this.#component(host, port), host, port, ...info };
    handshakeChannel.publish(message);
  }

  handshakeError(host: string, port: number, error: BerthError): void {
    if (!handshakeErrorChannel.hasSubscribers) return;
    const message: TlsHandshakeErrorMessage = {
      component: this.#component(host, port),
      host,
      port,
      error: { code: error.code, message: error.message },
    };
    handshakeErrorChannel.publish(message);
  }

  certExpiring(which: 'peer' | 'client', subject: string, validTo: number, daysLeft: number): void {
    if (!certExpiringChannel.hasSubscribers) return;
    const message: CertExpiringMessage = { component: this.#component(), which, subject, validTo, daysLeft };
    certExpiringChannel.publish(message);
  }

  reload(error: BerthError | undefined): void {
    if (!reloadChannel.hasSubscribers) return;
    const message: TlsReloadMessage =
      error === undefined
        ? { component: this.#component(), ok: true }
        : { component: this.#component(), ok: false, error: { code: error.code, message: error.message } };
    reloadChannel.publish(message);
  }
}
