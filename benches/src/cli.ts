/**
 * `pnpm bench` runs the quick suite, `pnpm bench --full` the long one, `pnpm bench <id> …`
 * the named scenarios. Writes benches/results/latest.json and benches/RESULTS.md.
 *
 * With more than one scenario selected, each runs in a fresh Node process (this script with
 * `--emit=<file>`): a scenario then starts from an empty heap and an idle event loop, so its
 * numbers do not depend on what ran before it in the suite (garbage, timers and sockets of
 * earlier scenarios moved the later ratios by several per cent).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt, childExecArgv, fromBuild } from './harness/exec-argv.js';
import { writeReports } from './harness/report.js';
import type { BenchResult } from './harness/types.js';

if (fromBuild && process.execArgv.includes('--conditions=@berth/source')) {
  console.error('BERTH_BENCH_BUILD=1 measures the built packages: run without --conditions=@berth/source (pnpm bench does).');
  process.exit(2);
}
assertBuilt();
// Imported after the check, so a missing build is reported as such, not as a failed import.
const { scenarios } = await import('./scenarios.js');

const args = process.argv.slice(2);
const full = args.includes('--full');
const tiny = args.includes('--tiny');
const emit = args.find((a) => a.startsWith('--emit='))?.slice('--emit='.length);
const ids = args.filter((a) => !a.startsWith('--'));
const unknown = ids.filter((id) => !scenarios.some((s) => s.id === id));
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${scenarios.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const selected = scenarios.filter((s) => (ids.length > 0 ? ids.includes(s.id) : full || s.quick));
const mode = tiny ? 'tiny' : full ? 'full' : 'quick';
/** Runs one scenario in a fresh process and returns its results (see the header). */
async function runInChild(id: string, dir: string): Promise<BenchResult[]> {
  const file = join(dir, `${id}.json`);
  const child = fork(fileURLToPath(import.meta.url), [id, ...(full ? ['--full'] : []), ...(tiny ? ['--tiny'] : []), `--emit=${file}`], {
    execArgv: childExecArgv({ exposeGc: true }),
    stdio: 'inherit',
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`scenario ${id} failed (exit ${code ?? signal})`);
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResult[];
}

const results: BenchResult[] = [];
const failed: string[] = [];
const started = Date.now();
if (selected.length > 1) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  try {
    for (const scenario of selected) {
      // A failed scenario is reported at the end; the others still run and are written.
      try {
        results.push(...(await runInChild(scenario.id, dir)));
      } catch (error) {
        failed.push(scenario.id);
        console.error(`  ${(error as Error).message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  for (const scenario of selected) {
    const t0 = Date.now();
    console.log(`\n▶ ${scenario.id}: ${scenario.description}`);
    for (const result of await scenario.run({ tiny, quick: !full })) {
      results.push(result);
      const peers = Object.entries(result.ratios).map(([k, v]) => `${v}× ${k}`).join(', ');
      const goal = result.goal === undefined ? '' : ` [${result.goal.pass ? 'pass' : 'MISS'}: ${result.goal.text}]`;
      console.log(`  ${result.id}: ${result.berth} ${result.unit}${peers ? ` (${peers})` : ''}${goal}`);
    }
    console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
if (emit !== undefined) {
  writeFileSync(emit, JSON.stringify(results));
  // Every scenario closes what it opened (bench.test.ts checks it); exit regardless, so a
  // straggling handle cannot stall the suite.
  process.exit(0);
}
// RESULTS.md is rewritten only by a complete suite run; latest.json always gets what ran.
writeReports(mode, results, { markdown: !tiny && ids.length === 0 && failed.length === 0 });
console.log(`\n${results.length} results in ${((Date.now() - started) / 1000).toFixed(0)} s → benches/results/latest.json${!tiny && ids.length === 0 && failed.length === 0 ? ' and benches/RESULTS.md' : ''}`);
if (failed.length > 0) {
  console.error(`${failed.length} scenario(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
