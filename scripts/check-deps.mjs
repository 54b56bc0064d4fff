#!/usr/bin/env node
// The one rule of dependencies (DESIGN.md): a functional package depends on
// @berth/core-types (and @berth/testkit as a dev dependency) and on third-party libraries,
// never on another berth package; only the facade (`berth`), apps/* and benches/ combine
// them. Also: no cycle between workspace packages, and no value-import cycle between the
// modules of one package. Run by CI (`pnpm check:deps`); exits 1 and names every breach.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const COMBINERS = new Set(['berth']);
const CORE = '@berth/core-types';
const TESTKIT = '@berth/testkit';

const isBerth = (name) => name === 'berth' || name.startsWith('@berth/');

function listDirs(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((p) => statSync(p).isDirectory() && existsSync(join(p, 'package.json')));
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE =
  /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Import specifiers of a source file: `{ spec, typeOnly }`. */
export function importsOf(source) {
  const found = [];
  for (const m of source.matchAll(IMPORT_RE)) {
    const spec = m[3] ?? m[4];
    if (spec !== undefined) found.push({ spec, typeOnly: m[2] !== undefined });
  }
  return found;
}

const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Finds cycles in a graph given as Map<node, Set<node>>; returns each as a node list. */
export function findCycles(graph) {
  const cycles = [];
  const state = new Map(); // 1 = on stack, 2 = done
  const stack = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Every breach of the dependency rule under `root`, as human-readable lines. */
export function checkDependencies(root) {
  const problems = [];
  const workspace = [
    ...listDirs(join(root, 'packages')).map((dir) => ({ dir, functional: true })),
    ...listDirs(join(root, 'apps')).map((dir) => ({ dir, functional: false })),
    // benches/ and the cross-package reliability suite combine packages, like apps/.
    ...['benches', 'reliability']
      .filter((dir) => existsSync(join(root, dir, 'package.json')))
      .map((dir) => ({ dir: join(root, dir), functional: false })),
  ].map((entry) => ({ ...entry, pkg: JSON.parse(readFileSync(join(entry.dir, 'package.json'), 'utf8')) }));

  const names = new Set(workspace.map((entry) => entry.pkg.name));
  const graph = new Map();
  for (const { dir, functional, pkg } of workspace) {
    const name = pkg.name;
    const where = relative(root, dir) || '.';
    const combiner = !functional || COMBINERS.has(name);
    const runtime = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    const dev = pkg.devDependencies ?? {};
    const declared = new Set([...Object.keys(runtime), ...Object.keys(dev)]);
    graph.set(name, new Set([...declared].filter((dep) => names.has(dep))));

    if (!combiner) {
      for (const dep of Object.keys(runtime).filter(isBerth)) {
        if (dep === CORE && name !== CORE) continue;
        if (dep === TESTKIT) {
          problems.push(`${name} (${where}/package.json) lists ${TESTKIT} outside devDependencies`);
          continue;
        }
        problems.push(`${name} (${where}/package.json) depends on ${dep}: functional packages may depend only on ${CORE}`);
      }
      for (const dep of Object.keys(dev).filter(isBerth)) {
        if ((dep === CORE || dep === TESTKIT) && dep !== name && name !== CORE) continue;
        problems.push(`${name} (${where}/package.json) has dev dependency ${dep}: only ${CORE} and ${TESTKIT} are allowed`);
      }
    }

    const moduleGraph = new Map();
    for (const file of walk(join(dir, 'src'))) {
      const rel = relative(root, file);
      const edges = new Set();
      moduleGraph.set(file, edges);
      for (const { spec, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
          if (!typeOnly && existsSync(target)) edges.add(target);
          continue;
        }
        const dep = packageOf(spec);
        if (!isBerth(dep) || dep === name) continue;
        if (!declared.has(dep)) problems.push(`${rel} imports ${dep}, which ${name} does not declare in package.json`);
        if (combiner) continue;
        const isTest = /\.test(-d)?\.ts$/.test(file);
        if (dep === CORE && name !== CORE) continue;
        if (dep === TESTKIT && isTest) continue;
        problems.push(`${rel} imports ${dep}: functional packages may import only ${CORE}${isTest ? ` and ${TESTKIT}` : ''}`);
      }
    }
    for (const cycle of findCycles(moduleGraph)) {
      problems.push(`import cycle in ${name}: ${cycle.map((f) => relative(root, f)).join(' -> ')}`);
    }
  }
  for (const cycle of findCycles(graph)) problems.push(`package cycle: ${cycle.join(' -> ')}`);
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkDependencies(root);
  if (problems.length > 0) {
    console.error(`Dependency rule broken (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('Dependency rule holds: functional packages depend only on @berth/core-types; no cycles.');
}
