import type { Scenario } from './harness/types.js';
import { tlsHandshakeFull, tlsHandshakeResumed } from './scenarios/tls-handshake.js';

export type { Scenario } from './harness/types.js';

/** Registered scenarios, in run order (ids fixed by issue 12). */
export const scenarios: readonly Scenario[] = [tlsHandshakeFull, tlsHandshakeResumed];
