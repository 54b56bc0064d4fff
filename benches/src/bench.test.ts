import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReports } from './harness/report.js';
import { compareRounds } from './harness/rounds.js';
import type { BenchResult } from './harness/types.js';
import { scenarios } from './scenarios.js';

/** The fixed ids of issue 12; every one must stay registered. */
const ISSUE_IDS = [
  'acquire-latency',
  'h1-throughput',
  'tls-handshake-full',
  'tls-handshake-resumed',
  'memory-100-h1',
  'memory-100-h2-streams',
  'h2-throughput',
  'h2-max-streams',
  'ws-throughput',
  'connections-held',
  'reuse-rate',
  'failover-time',
  'metrics-overhead',
  'adaptive-window',
];

const numberOrNull = (v: unknown) => v === null || typeof v === 'number';

/** Asserts the latest.json result schema of issue 12 (values only by type, never by size). */
function expectSchema(result: BenchResult, scenarioId: string): void {
  expect(result.id === scenarioId || result.id.startsWith(`${scenarioId}@`)).toBe(true);
  expect(typeof result.unit).toBe('string');
  expect(['higher', 'lower']).toContain(result.better);
  expect(typeof result.berth).toBe('number');
  expect(Number.isNaN(result.berth)).toBe(false);
  expect(Array.isArray(result.samples['berth'])).toBe(true);
  expect(result.samples['berth']?.length).toBeGreaterThan(0);
  expect(Object.keys(result.ratios).sort()).toEqual(Object.keys(result.peers).sort());
  for (const [peer, value] of Object.entries(result.peers)) {
    expect(typeof value).toBe('number');
    // A ratio over a zero peer value is not a number; JSON writes it as null.
    expect(numberOrNull(JSON.parse(JSON.stringify(result.ratios[peer] ?? null)))).toBe(true);
    expect(result.samples[peer]?.length).toBe(result.samples['berth']?.length);
  }
  if (result.goal !== undefined) {
    expect(typeof result.goal.text).toBe('string');
    expect(typeof result.goal.pass).toBe('boolean');
  }
  if (result.notes !== undefined) expect(typeof result.notes).toBe('string');
}

describe('bench registry', () => {
  it('registers every scenario id of issue 12, each once', () => {
    const ids = scenarios.map((s) => s.id);
    expect([...ids].sort()).toEqual([...ISSUE_IDS].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('compareRounds', () => {
  it('rotates the order of variants every round and reports medians and the median of per-round ratios', async () => {
    const order: string[] = [];
    const values: Record<string, number[]> = { berth: [10, 30, 20], peer: [5, 10, 40] };
    const variant = (name: string) => () => {
      order.push(name);
      return Promise.resolve({ v: values[name]?.shift() ?? 0 });
    };
    const [result] = await compareRounds({
      rounds: 3,
      berth: variant('berth'),
      peers: { peer: variant('peer') },
      metrics: { v: { id: 'x', unit: 'u', better: 'higher', goal: (r) => ({ text: '≥ 1×', pass: (r.ratios['peer'] ?? 0) >= 1 }) } },
    });
    expect(order).toEqual(['berth', 'peer', 'peer', 'berth', 'berth', 'peer']);
    expect(result?.berth).toBe(20);
    expect(result?.peers).toEqual({ peer: 10 });
    // Per-round ratios 2, 3, 0.5: the median is 2, not 20 / 10 by chance.
    expect(result?.ratios).toEqual({ peer: 2 });
    expect(result?.samples).toEqual({ berth: [10, 30, 20], peer: [5, 10, 40] });
    expect(result?.goal).toEqual({ text: '≥ 1×', pass: true });
  });
});

describe('writeReports', () => {
  it('writes latest.json with env (node, cpu, cores, date, versions) and the results', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
    try {
      const result: BenchResult = { id: 'x', unit: 'u', better: 'lower', berth: 1, peers: {}, ratios: {}, samples: { berth: [1] } };
      writeReports('tiny', [result], { markdown: false, outDir: dir });
      const written = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { env: Record<string, unknown>; results: unknown[] };
      expect(Object.keys(written.env)).toEqual(expect.arrayContaining(['node', 'cpu', 'cores', 'date', 'versions']));
      expect(written.env['versions']).toEqual(expect.objectContaining({ undici: expect.any(String) as string, ws: expect.any(String) as string }));
      expect(written.results).toEqual([result]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Smoke: every scenario runs in tiny mode (a fraction of a second of load each, plus process
// start-up) and yields results in the schema. Timing is never asserted.
describe.each(scenarios.map((s) => [s.id, s] as const))('scenario %s (tiny)', (id, scenario) => {
  it('produces results in the latest.json schema', { timeout: 90_000 }, async () => {
    const results = await scenario.run({ tiny: true, quick: true });
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) expectSchema(result, id);
  });
});
