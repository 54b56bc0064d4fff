import { ConfigError } from './errors.js';
import type { ConfigProblem } from './errors.js';

/** Bounds of a numeric option; both ends inclusive unless `exclusiveMin` is set. */
export interface NumberRule<D extends number | undefined> {
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Makes `min` exclusive: the value must be strictly greater. */
  readonly exclusiveMin?: boolean;
  /** Requires a whole number. */
  readonly integer?: boolean;
  /** Used when the option is left out (`undefined`). */
  readonly default: D;
}

/**
 * Renders a received value for a {@link ConfigProblem}: strings quoted, arrays and objects
 * summarized, so a message never dumps a certificate or a secret.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  return `an object (${Object.keys(value).slice(0, 5).join(', ') || 'empty'})`;
}

/**
 * Collects every invalid option of one component before failing, so `resolveOptions()`
 * reports all problems at once in one `ERR_BERTH_CONFIG` (p-queue's messages are the model).
 *
 * Each check returns a usable value (the default when the input is invalid) so resolution can
 * go on to find the next problem; {@link OptionChecker.done} then throws if anything was wrong.
 *
 * @example
 * const c = new OptionChecker('https-pool');
 * const max = c.number('maxConnections', input.maxConnections, { min: 1, integer: true, default: 100 });
 * c.done();
 */
export class OptionChecker {
  readonly #component: string;
  readonly #problems: ConfigProblem[] = [];

  /** @param component name used in the error message, e.g. `https-pool`. */
  constructor(component: string) {
    this.#component = component;
  }

  /** Problems recorded so far. */
  get problems(): readonly ConfigProblem[] {
    return this.#problems;
  }

  /** Records a problem directly (for cross-field rules such as `min <= max`). */
  problem(path: string, expected: string, received: unknown): void {
    this.#problems.push({ path, expected, received: describeValue(received) });
  }

  /** Records a problem unless `ok` holds. Returns `ok`. */
  expect(ok: boolean, path: string, expected: string, received: unknown): boolean {
    if (!ok) this.problem(path, expected, received);
    return ok;
  }

  /** A finite number within the rule's bounds, or the default when left out. */
  number<D extends number | undefined>(path: string, value: unknown, rule: NumberRule<D>): number | D {
    if (value === undefined) return rule.default;
    const expected = describeRule(rule);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problem(path, expected, value);
      return rule.default;
    }
    const tooSmall =
      rule.min !== undefined && (rule.exclusiveMin === true ? value <= rule.min : value < rule.min);
    const tooLarge = rule.max !== undefined && value > rule.max;
    if ((rule.integer === true && !Number.isInteger(value)) || tooSmall || tooLarge) {
      this.problem(path, expected, value);
      return rule.default;
    }
    return value;
  }

  /** A boolean, or the default when left out. */
  boolean(path: string, value: unknown, defaultValue: boolean): boolean {
    if (value === undefined) return defaultValue;
    if (typeof value !== 'boolean') {
      this.problem(path, 'a boolean', value);
      return defaultValue;
    }
    return value;
  }

  /** One of `allowed`, or the default when left out. */
  oneOf<T extends string | number, D extends T | undefined>(
    path: string,
    value: unknown,
    allowed: readonly T[],
    defaultValue: D,
  ): T | D {
    if (value === undefined) return defaultValue;
    if (!allowed.includes(value as T)) {
      this.problem(path, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
      return defaultValue;
    }
    return value as T;
  }

  /** A non-empty string (matching `pattern` when given), or the default when left out. */
  string<D extends string | undefined>(
    path: string,
    value: unknown,
    defaultValue: D,
    pattern?: { readonly regex: RegExp; readonly expected: string },
  ): string | D {
    if (value === undefined) return defaultValue;
    if (typeof value !== 'string' || value.length === 0) {
      this.problem(path, pattern?.expected ?? 'a non-empty string', value);
      return defaultValue;
    }
    if (pattern !== undefined && !pattern.regex.test(value)) {
      this.problem(path, pattern.expected, value);
      return defaultValue;
    }
    return value;
  }

  /** A function, or the default when left out. */
  func<F extends (...args: never[]) => unknown, D extends F | undefined>(
    path: string,
    value: unknown,
    defaultValue: D,
  ): F | D {
    if (value === undefined) return defaultValue;
    if (typeof value !== 'function') {
      this.problem(path, 'a function', value);
      return defaultValue;
    }
    return value as F;
  }

  /** Throws one `ERR_BERTH_CONFIG` listing every problem, if there is any. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#component, this.#problems);
  }
}

function describeRule(rule: NumberRule<number | undefined>): string {
  const kind = rule.integer === true ? 'an integer' : 'a number';
  const lo = rule.min === undefined ? undefined : `${rule.exclusiveMin === true ? '>' : '>='} ${rule.min}`;
  const hi = rule.max === undefined ? undefined : `<= ${rule.max}`;
  const bounds = [lo, hi].filter((b) => b !== undefined).join(' and ');
  return bounds === '' ? kind : `${kind} ${bounds}`;
}
