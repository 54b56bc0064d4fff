/** How a scenario should run: `tiny` for the smoke test, `quick` for `pnpm bench`, else `--full`. */
export interface RunMode {
  readonly tiny: boolean;
  readonly quick: boolean;
}

/** One measured metric: Berth and its peers, side by side from interleaved rounds. */
export interface BenchResult {
  /** Fixed scenario id (issue 12), with a suffix for variants, e.g. `h2-throughput@500`. */
  readonly id: string;
  /** Unit of the values, e.g. `req/s`, `µs`, `bytes`. */
  readonly unit: string;
  /** Whether a higher value is better. */
  readonly better: 'higher' | 'lower';
  /** Berth's median over rounds. */
  readonly berth: number;
  /** Each peer's median over rounds. */
  readonly peers: Readonly<Record<string, number>>;
  /** berth / peer, median of the per-round ratios. */
  readonly ratios: Readonly<Record<string, number>>;
  /** Per-round values. */
  readonly samples: Readonly<Record<string, readonly number[]>>;
  /** The goal, in words and as a check, e.g. `≥ 1.0× undici-pool`. */
  readonly goal?: { readonly text: string; readonly pass: boolean };
  /** Anything a reader needs to interpret the number. */
  readonly notes?: string;
}

/** A benchmark scenario. */
export interface Scenario {
  /** Fixed id from issue 12, e.g. `h1-throughput`. */
  readonly id: string;
  /** One line on what it measures. */
  readonly description: string;
  /** In the quick suite (`pnpm bench`) as well as `--full`. */
  readonly quick: boolean;
  /** Runs it; returns one or more results. */
  run(mode: RunMode): Promise<BenchResult[]>;
}
