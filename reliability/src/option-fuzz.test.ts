/**
 * The fuzzer and the tally must catch what they are for: a resolver that lets an invalid
 * field through, refuses a valid one, names the wrong field, or throws something that is not
 * ERR_BERTH_CONFIG. Each one here is a deliberately broken resolver.
 */
import { describe, expect, it } from 'vitest';
import { BerthError, OptionChecker } from '@berth/core-types';
import { fuzzOptions } from './option-fuzz.js';
import type { FieldSpec } from './option-fuzz.js';
import { burst, codeOf } from './harness.js';

const SPECS: FieldSpec[] = [
  { path: 'size', t: 'int', min: 1, max: 10, lo: 1, hi: 10 },
  { path: 'ratio', t: 'num', min: 0, exclusiveMin: true, lo: 0.1, hi: 5 },
  { path: 'nested.on', t: 'bool' },
  { path: 'mode', t: 'enum', values: ['a', 'b'] },
];

interface Input {
  size?: unknown;
  ratio?: unknown;
  nested?: { on?: unknown };
  mode?: unknown;
}

/** A correct resolver for SPECS, with switches that break it. */
function resolver(breakage: { skip?: string; extra?: string; refuseValid?: boolean; throwPlain?: unknown } = {}) {
  return (options: Record<string, unknown>) => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a resolver throwing a non-Error is the case under test
    if (breakage.throwPlain !== undefined) throw breakage.throwPlain;
    const input = options as Input;
    const c = new OptionChecker('fuzz-target');
    if (breakage.skip !== 'size') c.number('size', input.size, { min: 1, max: 10, integer: true, default: 1 });
    c.number('ratio', input.ratio, { min: 0, exclusiveMin: true, default: 1 });
    c.boolean('nested.on', input.nested?.on, false);
    c.oneOf('mode', input.mode, ['a', 'b'] as const, 'a');
    if (breakage.extra !== undefined && c.problems.length > 0) c.problem(breakage.extra, 'nothing', 1);
    if (breakage.refuseValid === true && c.problems.length === 0) c.problem('size', 'never valid', input.size);
    c.done();
  };
}

/** The property failure's own message (fast-check reports it as the `cause`). */
async function failureOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : String(error);
  }
  return 'passed';
}

describe('fuzzOptions catches a broken resolver', () => {
  it('passes a correct resolver and tries exactly numRuns configurations, some fully valid', async () => {
    const tally = await fuzzOptions(SPECS, resolver(), { numRuns: 200 });
    expect(tally.runs).toBe(200);
    expect(tally.valid).toBeGreaterThan(10);
  });

  it('fails when an invalid field is let through unnamed', async () => {
    expect(await failureOf(fuzzOptions(SPECS, resolver({ skip: 'size' }), { numRuns: 200 }))).toMatch(/size is invalid but not named|expected ERR_BERTH_CONFIG/);
  });

  it('fails when a valid field is named', async () => {
    expect(await failureOf(fuzzOptions(SPECS, resolver({ extra: 'other' }), { numRuns: 200 }))).toMatch(/other is valid but named/);
  });

  it('fails when valid options are refused', async () => {
    expect(await failureOf(fuzzOptions(SPECS, resolver({ refuseValid: true }), { numRuns: 200 }))).toMatch(/valid options were refused/);
  });

  it('fails when the resolver throws something other than ERR_BERTH_CONFIG, Error or not', async () => {
    expect(await failureOf(fuzzOptions(SPECS, resolver({ throwPlain: new BerthError('ERR_BERTH_INTERNAL', 'boom') }), { numRuns: 50 }))).toMatch(/boom/);
    expect(await failureOf(fuzzOptions(SPECS, resolver({ throwPlain: { odd: true } }), { numRuns: 50 }))).toMatch(/"odd":true/);
  });
});

describe('burst tallies', () => {
  it('counts successes, BerthError codes, and anything else as NOT_BERTH', async () => {
    const tally = await burst(4, (i) => {
      if (i === 0) return Promise.resolve('ok');
      if (i === 1) return Promise.reject(new BerthError('ERR_BERTH_TIMEOUT', 't'));
      if (i === 2) return Promise.reject(new TypeError('plain'));
      return Promise.reject(new BerthError('ERR_BERTH_TIMEOUT', 't'));
    });
    expect(tally).toEqual({ succeeded: 1, failed: { ERR_BERTH_TIMEOUT: 2, 'NOT_BERTH:TypeError: plain': 1 } });
    expect(codeOf('text')).toBe('NOT_BERTH:undefined: undefined');
  });
});
