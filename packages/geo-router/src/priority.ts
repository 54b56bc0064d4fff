/** Health of one priority level: how many of its regions may take traffic, out of how many. */
export interface LevelHealth {
  readonly healthy: number;
  readonly total: number;
}

/**
 * Share of traffic (percent, summing to 100 when any region is healthy) that each priority
 * level takes, by Envoy's spill formula (`docs/root/intro/arch_overview/upstream/load_balancing/priority.rst`):
 *
 * `health(P) = min(100, factor·100·healthy/total)`, `norm = min(100, Σ health)`,
 * `load(P0) = min(100, health(P0)·100/norm)`, `load(Pk) = min(100 − Σ earlier loads, health(Pk)·100/norm)`.
 *
 * With the default factor 1.4, level 0 keeps all traffic until fewer than 71.4 % of its regions
 * are healthy; at 50 % it takes 70 % and level 1 30 %. Returns all zeros when nothing is healthy
 * (the caller then panics or fails).
 */
export function priorityLoads(levels: readonly LevelHealth[], factor: number): number[] {
  const health = levels.map((l) => (l.total === 0 ? 0 : Math.min(100, (factor * 100 * l.healthy) / l.total)));
  const norm = Math.min(100, health.reduce((a, b) => a + b, 0));
  if (norm === 0) return levels.map(() => 0);
  let remaining = 100;
  return health.map((h) => {
    const load = Math.min(remaining, (h * 100) / norm);
    remaining -= load;
    return load;
  });
}

/** Index of the level a uniform draw `random01` falls in, given {@link priorityLoads}; −1 when all are zero. */
export function pickLevel(loads: readonly number[], random01: number): number {
  let point = random01 * 100;
  let last = -1;
  for (let i = 0; i < loads.length; i += 1) {
    const load = loads[i] ?? 0;
    if (load <= 0) continue;
    last = i;
    if (point < load) return i;
    point -= load;
  }
  return last;
}
