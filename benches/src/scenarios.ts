/** A benchmark scenario: Berth and its peers measured side by side in one process run. */
export interface Scenario {
  /** Fixed id, e.g. `h1-throughput`. */
  readonly id: string;
  /** One line on what it measures. */
  readonly description: string;
  /** Runs it and prints/records results. */
  run(): Promise<void>;
}

/** Registered scenarios, in run order. */
export const scenarios: readonly Scenario[] = [];
