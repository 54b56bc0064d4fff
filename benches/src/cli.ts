/**
 * `pnpm bench`: runs Berth's comparative benchmarks. Scenarios register in `scenarios.ts`
 * as the packages they measure land (see benches/README.md).
 */
import { scenarios } from './scenarios.js';

const ids = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = ids.length === 0 ? scenarios : scenarios.filter((s) => ids.includes(s.id));
if (selected.length === 0) {
  console.log(`No scenario to run${ids.length > 0 ? ` matching ${ids.join(', ')}` : ''}; registered: ${scenarios.map((s) => s.id).join(', ') || 'none yet'}.`);
}
for (const scenario of selected) {
  console.log(`${scenario.id}: ${scenario.description}`);
  await scenario.run();
}
