import type { ComponentIdentity } from '@berth/core-types';

/** The label names every Berth metric carries: who published the event. */
export const IDENTITY_LABELS = ['kind', 'name', 'origin', 'region'] as const;

/** Label values of {@link IDENTITY_LABELS}. */
export type IdentityLabels = Record<(typeof IDENTITY_LABELS)[number], string>;

/** Value a free-form label takes once its metric has seen `maxLabelValues` distinct values. */
export const OTHER_VALUE = '_other';
/** `name` of every component past `maxComponents`. */
export const OVERFLOW_NAME = '_overflow';

/**
 * Keeps label values bounded. Prometheus keeps one series per label combination forever, so a
 * publisher that leaks an id into a name or reason would grow memory without end; past the
 * caps, values fold into {@link OVERFLOW_NAME}/{@link OTHER_VALUE} instead of new series.
 */
export class LabelGuard {
  readonly #maxComponents: number;
  readonly #maxValues: number;
  readonly #identities = new WeakMap<ComponentIdentity, IdentityLabels>();
  readonly #identityKeys = new Map<string, IdentityLabels>();
  readonly #values = new Map<string, Set<string>>();

  constructor(maxComponents: number, maxValues: number) {
    this.#maxComponents = maxComponents;
    this.#maxValues = maxValues;
  }

  /**
   * The identity labels of a publisher: one object per distinct identity, so metric series can
   * be cached on it. Cached per identity object too, since publishers reuse theirs.
   */
  identity(component: ComponentIdentity): IdentityLabels {
    const cached = this.#identities.get(component);
    if (cached !== undefined) return cached;
    const kind = String(component.kind);
    const name = String(component.name);
    const origin = component.origin ?? '';
    const region = component.region ?? '';
    const key = `${kind}\n${name}\n${origin}\n${region}`;
    let labels = this.#identityKeys.get(key);
    if (labels === undefined) {
      labels =
        this.#identityKeys.size < this.#maxComponents
          ? { kind, name, origin, region }
          : { kind, name: OVERFLOW_NAME, origin: '', region: '' };
      if (this.#identityKeys.size < this.#maxComponents) this.#identityKeys.set(key, labels);
    }
    this.#identities.set(component, labels);
    return labels;
  }

  /** `value` if the `metric`/`label` pair has room for it (or has seen it), else {@link OTHER_VALUE}. */
  value(metric: string, label: string, value: string): string {
    const key = `${metric}\n${label}`;
    let seen = this.#values.get(key);
    if (seen === undefined) {
      seen = new Set();
      this.#values.set(key, seen);
    }
    if (seen.has(value)) return value;
    if (seen.size >= this.#maxValues) return OTHER_VALUE;
    seen.add(value);
    return value;
  }
}

const STATUS_CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** 1–5 for a status in 100–599 (its hundreds digit), 0 when there is none or it is out of range. */
export function statusClassIndex(status: number | undefined): number {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) return 0;
  return Math.floor(status / 100);
}

/** `2xx`-style class of an HTTP status; `error` when no response head arrived. */
export function statusClass(status: number | undefined): string {
  return STATUS_CLASSES[statusClassIndex(status)] as string;
}
