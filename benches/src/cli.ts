/**
 * `pnpm bench` runs the quick suite, `pnpm bench --full` the long one, `pnpm bench <id> …`
 * the named scenarios. Writes benches/results/latest.json and benches/RESULTS.md.
 */
import { writeReports } from './harness/report.js';
import type { BenchResult } from './harness/types.js';
import { scenarios } from './scenarios.js';

const args = process.argv.slice(2);
const full = args.includes('--full');
const tiny = args.includes('--tiny');
const ids = args.filter((a) => !a.startsWith('--'));
const unknown = ids.filter((id) => !scenarios.some((s) => s.id === id));
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${scenarios.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const selected = scenarios.filter((s) => (ids.length > 0 ? ids.includes(s.id) : full || s.quick));
const mode = tiny ? 'tiny' : full ? 'full' : 'quick';
const results: BenchResult[] = [];
const started = Date.now();
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
writeReports(mode, results, { markdown: !tiny && ids.length === 0 });
console.log(`\n${results.length} results in ${((Date.now() - started) / 1000).toFixed(0)} s → benches/results/latest.json${!tiny && ids.length === 0 ? ' and benches/RESULTS.md' : ''}`);
