/**
 * `pnpm demo`: runs the scripted scenario of demo-scenario.ts, prints a live table once a
 * second and a summary, and exits 1 if any (idempotent) request or ws message was lost.
 *
 * Flags: `--duration <seconds>` (default 60, at least 5), `--serve` (keep the regions and the
 * gateway up and print the URLs to try by hand).
 */
import { parseArgs } from 'node:util';
import { testPki } from '@berth/testkit';
import { runDemo, startStack, UPSTREAM } from './demo-scenario.js';
import { startDemoWorld } from './demo-world.js';

async function serve(): Promise<void> {
  const pki = await testPki();
  const world = await startDemoWorld();
  const gateway = await startStack(world, pki.ca.cert);
  console.log('Berth demo (--serve): everything stays up until Ctrl-C.\n');
  for (const region of world.regions) console.log(`  region ${region.name.padEnd(9)} ${region.origin} (${region.protocol}, +${region.latencyMs} ms)`);
  console.log(`\n  curl ${gateway.url}/${UPSTREAM}/hello`);
  console.log(`  curl ${gateway.url}/stats`);
  console.log(`  curl ${gateway.url}/metrics`);
  console.log(`  curl ${gateway.url}/readyz`);
  console.log(`  curl ${gateway.url}/healthz`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('closing…');
  await gateway.close();
  await world.close();
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    // `pnpm demo -- --duration 15` hands the script a literal `--` first; accept both spellings.
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: { duration: { type: 'string', default: '60' }, serve: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.serve) {
    await serve();
    return 0;
  }
  const duration = Number(values.duration);
  if (!Number.isFinite(duration) || duration < 5) {
    console.error(`--duration must be a number of seconds >= 5, received ${JSON.stringify(values.duration)}`);
    return 2;
  }
  return (await runDemo(duration)).exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
