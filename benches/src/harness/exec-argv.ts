import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/** Newest modification time (ms) of the files under `dir` that `keep` accepts, recursively; 0 when none. */
function newestMtime(dir: string, keep: (name: string) => boolean): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && keep(entry.name)) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Source files that end up in dist/ (tests do not). */
const isBuiltSource = (name: string): boolean => name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(name);

/**
 * Throws a clear error when the build the benchmarks need is missing or older than its source
 * (`pnpm bench` from the repository root builds first; run inside `benches/`, it does not).
 */
export function assertBuilt(): void {
  if (!fromBuild) return;
  const problems: string[] = [];
  // The workspace packages this one depends on (each lives in packages/<name>).
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter((dep) => dep.startsWith('@berth/'))
    .map((dep) => dep.slice('@berth/'.length));
  for (const name of names) {
    const root = fileURLToPath(new URL(`../../../packages/${name}/`, import.meta.url));
    const built = join(root, 'dist', 'index.js');
    if (!existsSync(built)) problems.push(`${name} has no dist/`);
    else if (newestMtime(join(root, 'src'), isBuiltSource) > newestMtime(join(root, 'dist'), () => true)) problems.push(`${name}'s dist/ is older than its src/`);
  }
  if (problems.length > 0) {
    throw new Error(`BERTH_BENCH_BUILD=1 measures the built packages, but ${problems.join('; ')}: run \`pnpm build\` (or \`pnpm bench\` from the repository root) first`);
  }
}
