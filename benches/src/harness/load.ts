import { performance } from 'node:perf_hooks';

/** Outcome of a closed-loop run. */
export interface LoadResult {
  /** Operations completed. */
  readonly completed: number;
  /** Operations that threw. */
  readonly failed: number;
  /** Wall time, in milliseconds. */
  readonly elapsedMs: number;
  /** Per-operation latencies, in milliseconds (a bounded reservoir). */
  readonly latenciesMs: readonly number[];
  /** Client CPU time used (user + system), in microseconds. */
  readonly cpuMicros: number;
}

const RESERVOIR = 50_000;

/**
 * Closed-loop load: `concurrency` workers each call `op` back to back until `durationMs`
 * passes or `maxOps` complete (every loop here is bounded in time and count).
 */
export async function closedLoop(
  op: () => Promise<void>,
  options: { concurrency: number; durationMs: number; maxOps?: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let completed = 0;
  let failed = 0;
  let seen = 0;
  const maxOps = options.maxOps ?? Number.MAX_SAFE_INTEGER;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline && completed + failed < maxOps) {
      const t0 = performance.now();
      try {
        await op();
        completed += 1;
      } catch {
        failed += 1;
      }
      const ms = performance.now() - t0;
      seen += 1;
      // Reservoir sampling keeps memory bounded over long runs.
      if (latencies.length < RESERVOIR) latencies.push(ms);
      else {
        const slot = Math.floor(Math.random() * seen);
        if (slot < RESERVOIR) latencies[slot] = ms;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  return {
    completed,
    failed,
    elapsedMs: performance.now() - started,
    latenciesMs: latencies,
    cpuMicros: cpu.user + cpu.system,
  };
}
