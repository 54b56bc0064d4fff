import fc from 'fast-check';
import { isBerthError } from '@berth/core-types';

/** How one option is validated, and the valid range the fuzzer draws from. */
export type FieldSpec =
  | {
      /** Dotted option path, as the component reports it. */
      readonly path: string;
      readonly t: 'int' | 'num';
      /** The rule's bounds (what the component enforces). */
      readonly min?: number;
      readonly max?: number;
      readonly exclusiveMin?: boolean;
      /** The valid values drawn: a sub-range chosen so no cross-field rule can trip. */
      readonly lo: number;
      readonly hi: number;
    }
  | { readonly path: string; readonly t: 'bool' }
  | { readonly path: string; readonly t: 'enum'; readonly values: readonly unknown[] };

/** One drawn value: left out, valid, or invalid. */
type Draw = { readonly kind: 'omit' } | { readonly kind: 'valid' | 'invalid'; readonly value: unknown };

/** Values that break `spec`'s rule. */
function invalidValues(spec: FieldSpec): unknown[] {
  const common: unknown[] = [Number.NaN, 'yes', null, {}, []];
  if (spec.t === 'bool') return [...common, 0, 1, 'true'];
  if (spec.t === 'enum') return [...common, 'bogus', 42, true];
  const bad: unknown[] = [...common, Number.POSITIVE_INFINITY, true];
  if (spec.min !== undefined) bad.push(spec.exclusiveMin === true ? spec.min : spec.min - 1, spec.min - 1000.5);
  if (spec.max !== undefined) bad.push(spec.max + 1, spec.max * 2 + 1);
  if (spec.t === 'int') bad.push(spec.lo + 0.5);
  return bad;
}

function validArbitrary(spec: FieldSpec): fc.Arbitrary<unknown> {
  if (spec.t === 'bool') return fc.boolean();
  if (spec.t === 'enum') return fc.constantFrom(...spec.values);
  if (spec.t === 'int') return fc.integer({ min: spec.lo, max: spec.hi });
  return fc.double({ min: spec.lo, max: spec.hi, noNaN: true, noDefaultInfinity: true });
}

/** Options built from `draws`, with dotted paths expanded into nested objects over `base`. */
function build(base: Readonly<Record<string, unknown>>, specs: readonly FieldSpec[], draws: readonly Draw[]): Record<string, unknown> {
  const root: Record<string, unknown> = structuredClone(base);
  specs.forEach((spec, i) => {
    const draw = draws[i];
    if (draw === undefined || draw.kind === 'omit') return;
    const parts = spec.path.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      node[part] = typeof next === 'object' && next !== null ? next : {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] ?? ''] = draw.value;
  });
  return root;
}

/** Tally of one fuzz run. */
export interface FuzzTally {
  /** Configurations tried. */
  runs: number;
  /** Of which fully valid (constructed). */
  valid: number;
}

/**
 * Property: for random options over `specs` (each field left out, valid or invalid, invalid
 * ones rarer so fully valid configurations are common), `attempt(options)` succeeds exactly
 * when every field is valid; otherwise it throws one `ERR_BERTH_CONFIG` whose problems name
 * every invalid field, `prefix`ed, and nothing else.
 */
export async function fuzzOptions(
  specs: readonly FieldSpec[],
  attempt: (options: Record<string, unknown>) => unknown,
  { base = {}, prefix = '', numRuns = 1000 }: { base?: Readonly<Record<string, unknown>>; prefix?: string; numRuns?: number } = {},
): Promise<FuzzTally> {
  const tally: FuzzTally = { runs: 0, valid: 0 };
  const draw = (spec: FieldSpec): fc.Arbitrary<Draw> =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant<Draw>({ kind: 'omit' }) },
      { weight: 3, arbitrary: validArbitrary(spec).map((value): Draw => ({ kind: 'valid', value })) },
      { weight: 1, arbitrary: fc.constantFrom(...invalidValues(spec)).map((value): Draw => ({ kind: 'invalid', value })) },
    );
  await fc.assert(
    fc.asyncProperty(fc.tuple(...specs.map(draw)), async (draws) => {
      tally.runs += 1;
      const options = build(base, specs, draws);
      const invalid = specs.filter((_, i) => draws[i]?.kind === 'invalid').map((s) => `${prefix}${s.path}`);
      let error: unknown;
      try {
        await attempt(options);
      } catch (e) {
        error = e;
      }
      if (invalid.length === 0) {
        if (error !== undefined) throw new Error(`valid options were refused: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
        tally.valid += 1;
        return;
      }
      if (!isBerthError(error, 'ERR_BERTH_CONFIG')) throw new Error(`expected ERR_BERTH_CONFIG, got ${error instanceof Error ? error.message : JSON.stringify(error)}`);
      const named = new Set((error.details['problems'] as { path: string }[]).map((p) => p.path));
      for (const path of invalid) if (!named.has(path)) throw new Error(`${path} is invalid but not named in: ${error.message}`);
      for (const path of named) if (!invalid.includes(path)) throw new Error(`${path} is valid but named in: ${error.message}`);
    }),
    { numRuns, seed: 13 },
  );
  return tally;
}
