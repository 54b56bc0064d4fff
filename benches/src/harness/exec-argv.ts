import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * True when the benchmarks measure Berth as users get it: its packages' built `dist/` (what
 * `pnpm bench` does, after turbo builds them). Otherwise (the smoke test under vitest) they run
 * on the TypeScript source through tsx, whose esbuild transform keeps function names by
 * wrapping every named closure in a `__name()` call at creation: a property write and a
 * ~256-byte property array per closure, a cost no user pays.
 */
export const fromBuild = process.env['BERTH_BENCH_BUILD'] === '1';

/** Node flags for a bench child process (client or server), loading Berth as this process does. */
export function childExecArgv(options: { exposeGc?: boolean } = {}): string[] {
  return ['--import', 'tsx', ...(fromBuild ? [] : ['--conditions=@berth/source']), ...(options.exposeGc === true ? ['--expose-gc'] : [])];
}

/** Throws a clear error when the build the benchmarks need is missing. */
export function assertBuilt(): void {
  if (!fromBuild) return;
  const missing = ['core-types', 'tls-config', 'https-pool', 'h2-multiplexer', 'ws-pool', 'geo-router', 'metrics', 'testkit'].filter(
    (name) => !existsSync(fileURLToPath(new URL(`../../../packages/${name}/dist/index.js`, import.meta.url))),
  );
  if (missing.length > 0) {
    throw new Error(`BERTH_BENCH_BUILD=1 measures the built packages, but ${missing.join(', ')} have no dist/: run \`pnpm build\` first`);
  }
}
