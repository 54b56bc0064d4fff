/**
 * What the fault-matrix files share: every server, proxy and client a test opens is closed
 * after it, in reverse order, so the leak guard sees nothing left behind.
 */
import { afterEach } from 'vitest';
import { startFaultProxy, startHttpServer } from '@berth/testkit';
import type { FaultProxy, TestServer, TestServerOptions } from '@berth/testkit';

/** Registers the after-each cleanup and returns helpers bound to it, for one server protocol. */
export function useFixtures(protocol: NonNullable<TestServerOptions['protocol']>) {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    /** Closes `resource` after the test; returns it. */
    closing<T extends { close(): Promise<unknown> | void }>(resource: T): T {
      cleanups.push(async () => resource.close());
      return resource;
    },
    /** A testkit server of the fixture's protocol. */
    async server(options: TestServerOptions = {}): Promise<TestServer> {
      const s = await startHttpServer({ protocol, ...options });
      cleanups.push(() => s.close());
      return s;
    },
    /** A fault proxy in front of `target`. */
    async proxy(target: TestServer): Promise<FaultProxy> {
      const p = await startFaultProxy({ host: target.host, port: target.port });
      cleanups.push(() => p.close());
      return p;
    },
  };
}
