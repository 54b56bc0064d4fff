import { median, round } from './stats.js';
import type { BenchResult } from './types.js';

/** One side of a comparison: measures once per round and returns that round's value. */
export type Variant = () => Promise<number>;

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Scenario id. */
  readonly id: string;
  /** Unit of the values. */
  readonly unit: string;
  /** Whether higher is better. */
  readonly better: 'higher' | 'lower';
  /** Berth's variant. */
  readonly berth: Variant;
  /** The peers' variants, by name. */
  readonly peers: Readonly<Record<string, Variant>>;
  /** Rounds (each runs every variant once). */
  readonly rounds: number;
  /** Goal check on the result; returns its text and whether it passes. */
  readonly goal?: (result: Omit<BenchResult, 'goal'>) => { text: string; pass: boolean };
  /** Notes for the report. */
  readonly notes?: string;
}

/**
 * Runs Berth and its peers in interleaved rounds (A B C, then B C A, …: the order rotates so
 * no variant always runs first on a warm or cold machine), then reports medians and the
 * median of the per-round ratios. This machine drifts ±15 % between runs; only ratios from
 * the same rounds hold.
 */
export async function compare(options: CompareOptions): Promise<BenchResult> {
  const names = ['berth', ...Object.keys(options.peers)];
  const run = (name: string): Variant => (name === 'berth' ? options.berth : (options.peers[name] as Variant));
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < options.rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length] as string);
    for (const name of order) samples[name]?.push(await run(name)());
  }
  const berthSamples = samples['berth'] ?? [];
  const peers: Record<string, number> = {};
  const ratios: Record<string, number> = {};
  for (const name of Object.keys(options.peers)) {
    const peerSamples = samples[name] ?? [];
    peers[name] = round(median(peerSamples));
    ratios[name] = round(median(berthSamples.map((b, i) => b / (peerSamples[i] ?? Number.NaN))));
  }
  const base = {
    id: options.id,
    unit: options.unit,
    better: options.better,
    berth: round(median(berthSamples)),
    peers,
    ratios,
    samples: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => round(x))])),
    ...(options.notes === undefined ? {} : { notes: options.notes }),
  };
  return options.goal === undefined ? base : { ...base, goal: options.goal(base) };
}

/** A result with no peer (e.g. `h2-max-streams`, `reuse-rate`). */
export function single(
  id: string,
  unit: string,
  better: 'higher' | 'lower',
  values: readonly number[],
  goal?: (value: number) => { text: string; pass: boolean },
  notes?: string,
): BenchResult {
  const value = round(median(values));
  return {
    id,
    unit,
    better,
    berth: value,
    peers: {},
    ratios: {},
    samples: { berth: values.map((v) => round(v)) },
    ...(goal === undefined ? {} : { goal: goal(value) }),
    ...(notes === undefined ? {} : { notes }),
  };
}
