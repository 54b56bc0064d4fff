import { isIP } from 'node:net';
import { interceptors } from 'undici';
import type { Dispatcher } from 'undici';
import type { DnsOptions } from './options.js';

type Resolved = (error: Error | null, host?: string) => void;
type ResolveRequest = Dispatcher.DispatchOptions & { readonly berthResolved: Resolved };

/**
 * Resolves an origin's host name with undici's `dns` interceptor, not a hand-written cache:
 * it keeps answers up to `maxTtlMs`, rotates across the A/AAAA records (alternating families
 * when `dualStack`), and drops a host's records on ENOTFOUND. The interceptor is built to
 * sit in front of a dispatcher that routes by `origin`; here the "dispatcher" only captures
 * the rewritten origin, because each pool slot dials its own socket (so it can be counted,
 * timed and verified before any request) and an undici `Client` ignores `origin` when it
 * connects.
 */
export class DnsResolver {
  readonly #lookup: (opts: ResolveRequest, handler: Dispatcher.DispatchHandler) => boolean;

  constructor(options: DnsOptions) {
    const capture = ((opts: ResolveRequest) => {
      const host = new URL(String(opts.origin)).hostname;
      opts.berthResolved(null, host.startsWith('[') ? host.slice(1, -1) : host);
      return true;
    }) as unknown as Dispatcher['dispatch'];
    const intercept = interceptors.dns({
      ...(options.maxTtlMs === undefined ? {} : { maxTTL: options.maxTtlMs }),
      ...(options.dualStack === undefined ? {} : { dualStack: options.dualStack }),
      ...(options.affinity === undefined ? {} : { affinity: options.affinity }),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    });
    this.#lookup = intercept(capture);
  }

  /** The address to dial for `origin`: the IP literal itself, or the next cached/rotated record. */
  resolve(origin: URL): Promise<string> {
    const hostname = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
    if (isIP(hostname) !== 0) return Promise.resolve(hostname);
    return new Promise<string>((resolve, reject) => {
      const done: Resolved = (error, host) => {
        if (error !== null || host === undefined) reject(error ?? new Error(`no address for ${hostname}`));
        else resolve(host);
      };
      const handler: Dispatcher.DispatchHandler = {
        onResponseError: (_controller, error) => done(error),
      };
      try {
        this.#lookup({ origin, path: '/', method: 'GET', berthResolved: done }, handler);
      } catch (error) {
        done(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }
}
