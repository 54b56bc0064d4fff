/**
 * Vitest setup file (see the root vitest.config.ts): fails any test that leaves a socket,
 * server, timer or testkit-server connection behind. Resources opened in `beforeAll` are in
 * the baseline; a file that keeps client connections open across tests on purpose calls
 * `allowOpenServerConnections()` in its `beforeAll`.
 */
import { afterEach, beforeEach } from 'vitest';
import { activeResourceCounts, waitForNoLeaks } from './leak-guard.js';

let baseline = new Map<string, number>();
let checkServers = true;

/** Lets testkit servers keep connections open between the tests of this file. */
export function allowOpenServerConnections(): void {
  checkServers = false;
}

beforeEach(() => {
  baseline = activeResourceCounts();
});

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') return;
  const leaks = await waitForNoLeaks(baseline, { checkServers });
  if (leaks.length > 0) {
    throw new Error(`Test left resources open after it ended: ${leaks.join(', ')}`);
  }
});
