import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { checkDependencies, findCycles, importsOf } from './check-deps.mjs';

const check = checkDependencies as (root: string) => string[];
let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function pkg(dir: string, json: object, files: Record<string, string> = {}) {
  mkdirSync(join(root, dir, 'src'), { recursive: true });
  writeFileSync(join(root, dir, 'package.json'), JSON.stringify(json));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(root, dir, 'src', file), text);
}

function healthyWorkspace() {
  root = mkdtempSync(join(tmpdir(), 'berth-deps-'));
  pkg('packages/core-types', { name: '@berth/core-types' }, { 'index.ts': 'export const x = 1;\n' });
  pkg('packages/testkit', { name: '@berth/testkit', dependencies: { '@berth/core-types': 'workspace:*' } });
  pkg(
    'packages/https-pool',
    {
      name: '@berth/https-pool',
      dependencies: { '@berth/core-types': 'workspace:*', undici: '7' },
      devDependencies: { '@berth/testkit': 'workspace:*' },
    },
    {
      'index.ts': "import { x } from '@berth/core-types';\nimport { Pool } from 'undici';\nexport { x, Pool };\n",
      'pool.test.ts': "import { startHttpServer } from '@berth/testkit';\nvoid startHttpServer;\n",
    },
  );
  pkg(
    'packages/berth',
    { name: 'berth', dependencies: { '@berth/https-pool': 'workspace:*', '@berth/core-types': 'workspace:*' } },
    { 'index.ts': "export { Pool } from '@berth/https-pool';\n" },
  );
}

describe('checkDependencies', () => {
  it('passes a workspace that follows the rule', () => {
    healthyWorkspace();
    expect(check(root)).toEqual([]);
  });

  it('fails when a functional package lists another berth package', () => {
    healthyWorkspace();
    pkg('packages/ws-pool', {
      name: '@berth/ws-pool',
      dependencies: { '@berth/core-types': 'workspace:*', '@berth/https-pool': 'workspace:*' },
    });
    expect(check(root)).toEqual([
      '@berth/ws-pool (packages/ws-pool/package.json) depends on @berth/https-pool: functional packages may depend only on @berth/core-types',
    ]);
  });

  it('fails when testkit is a runtime dependency, or a sibling a dev dependency', () => {
    healthyWorkspace();
    pkg('packages/metrics', {
      name: '@berth/metrics',
      dependencies: { '@berth/testkit': 'workspace:*' },
      devDependencies: { '@berth/tls-config': 'workspace:*' },
    });
    const problems = check(root);
    expect(problems).toContain('@berth/metrics (packages/metrics/package.json) lists @berth/testkit outside devDependencies');
    expect(problems).toContain(
      '@berth/metrics (packages/metrics/package.json) has dev dependency @berth/tls-config: only @berth/core-types and @berth/testkit are allowed',
    );
  });

  it('fails when source imports a sibling, declared or not, and when non-test code imports testkit', () => {
    healthyWorkspace();
    pkg(
      'packages/geo-router',
      { name: '@berth/geo-router', dependencies: { '@berth/core-types': 'workspace:*' }, devDependencies: { '@berth/testkit': 'workspace:*' } },
      {
        'router.ts': "import { createHttpsPool } from '@berth/https-pool';\nimport type { T } from '@berth/testkit';\n",
      },
    );
    const problems = check(root);
    expect(problems).toContain('packages/geo-router/src/router.ts imports @berth/https-pool, which @berth/geo-router does not declare in package.json');
    expect(problems).toContain('packages/geo-router/src/router.ts imports @berth/https-pool: functional packages may import only @berth/core-types');
    expect(problems).toContain('packages/geo-router/src/router.ts imports @berth/testkit: functional packages may import only @berth/core-types');
  });

  it('fails on a package cycle and on a module cycle, but not on a type-only cycle', () => {
    healthyWorkspace();
    pkg('apps/a', { name: 'app-a', dependencies: { 'app-b': 'workspace:*' } });
    pkg('apps/b', { name: 'app-b', dependencies: { 'app-a': 'workspace:*' } });
    pkg('packages/resilience', { name: '@berth/resilience' }, {
      'a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'b.ts': "import { a } from './a.js';\nexport const b = 1; void a;\n",
      'c.ts': "import type { D } from './d.js';\nexport type C = D;\n",
      'd.ts': "import type { C } from './c.js';\nexport type D = C | 1;\n",
    });
    const problems = check(root);
    expect(problems.filter((p) => p.startsWith('package cycle'))).toEqual(['package cycle: app-a -> app-b -> app-a']);
    const moduleCycles = problems.filter((p) => p.startsWith('import cycle'));
    expect(moduleCycles).toHaveLength(1);
    expect(moduleCycles[0]).toContain('packages/resilience/src/a.ts -> packages/resilience/src/b.ts -> packages/resilience/src/a.ts');
  });
});

describe('helpers', () => {
  it('reads static, type-only, re-export and dynamic imports', () => {
    expect(
      importsOf("import a from 'x';\nimport type { B } from '@s/y';\nexport { c } from './c.js';\nconst d = await import('z');\n"),
    ).toEqual([
      { spec: 'x', typeOnly: false },
      { spec: '@s/y', typeOnly: true },
      { spec: './c.js', typeOnly: false },
      { spec: 'z', typeOnly: false },
    ]);
  });

  it('finds each cycle of a graph', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
