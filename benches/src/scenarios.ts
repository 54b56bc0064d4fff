import type { Scenario } from './harness/types.js';

export type { Scenario } from './harness/types.js';

/** Registered scenarios, in run order (ids fixed by issue 12). */
export const scenarios: readonly Scenario[] = [];
