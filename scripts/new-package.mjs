#!/usr/bin/env node
// Creates a package with the skeleton every Berth package shares (STYLE.md, "Packages"):
//   npx -y pnpm@10.34.9 new-package <name> "<one-line description>" [--private]
// then `npx -y pnpm@10.34.9 install` to link it. Refuses to overwrite an existing folder.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, description, ...flags] = process.argv.slice(2);
if (!name || !/^[a-z][a-z0-9-]*$/.test(name) || !description) {
  console.error('usage: new-package <kebab-case-name> "<description>" [--private]');
  process.exit(2);
}
const dir = join(root, 'packages', name);
if (existsSync(dir)) {
  console.error(`packages/${name} exists already; nothing was written`);
  process.exit(2);
}
const isPrivate = flags.includes('--private');
const pkg = {
  name: `@berth/${name}`,
  version: '0.1.0',
  description,
  ...(isPrivate ? { private: true } : {}),
  license: 'Apache-2.0',
  type: 'module',
  engines: { node: '>=20.18.1' },
  exports: {
    '.': {
      '@berth/source': './src/index.ts',
      types: './dist/index.d.ts',
      default: './dist/index.js',
    },
  },
  files: ['dist', 'src', '!src/**/*.test.ts', '!src/**/*.test-d.ts'],
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'eslint src',
    test: `vitest run --root ../.. --project @berth/${name}`,
  },
  dependencies: name === 'core-types' ? {} : { '@berth/core-types': 'workspace:*' },
  devDependencies: name === 'core-types' || name === 'testkit' ? {} : { '@berth/testkit': 'workspace:*' },
};
const files = {
  'package.json': JSON.stringify(pkg, null, 2) + '\n',
  'tsconfig.json':
    JSON.stringify(
      { extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true }, include: ['src'] },
      null,
      2,
    ) + '\n',
  'tsconfig.build.json':
    JSON.stringify(
      {
        extends: './tsconfig.json',
        // A build resolves sibling packages to their built dist/ types, never to source.
        compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist', customConditions: [] },
        exclude: ['src/**/*.test.ts', 'src/**/*.test-d.ts'],
      },
      null,
      2,
    ) + '\n',
  'README.md': `# @berth/${name}\n\n${description}\n`,
  'src/index.ts': `/**\n * @packageDocumentation\n * ${description}\n */\nexport {};\n`,
};
mkdirSync(join(dir, 'src'), { recursive: true });
for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
console.log(`created packages/${name}; run \`npx -y pnpm@10.34.9 install\` to link it`);
