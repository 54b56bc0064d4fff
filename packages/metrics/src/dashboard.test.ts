import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IDENTITY_LABELS } from './labels.js';
import { METRIC_DEFINITIONS } from './metric-set.js';

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly targets?: { expr: string; refId: string }[];
}

const dashboard = JSON.parse(readFileSync(new URL('../dashboards/berth.json', import.meta.url), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: unknown }[] };
};

/** Labels a series of `metric` (as written in PromQL, suffix included) may carry. */
const definitions: Readonly<Record<string, { readonly kind: string; readonly labels: readonly string[] }>> = METRIC_DEFINITIONS;
function labelsOf(metric: string): Set<string> | undefined {
  const name = metric.replace(/^berth_/, '');
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const def = definitions[base]?.kind === 'histogram' ? definitions[base] : definitions[name];
  if (def === undefined) return undefined;
  const labels = new Set<string>([...(base === 'events_total' ? [] : IDENTITY_LABELS), ...def.labels]);
  if (metric.endsWith('_bucket')) labels.add('le');
  return labels;
}

const panels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('the Grafana dashboard (dashboards/berth.json)', () => {
  it('covers connections, acquire wait, requests by region, reuse, TLS resumption, h2 streams, ws reconnects and scaler decisions', () => {
    const used = new Set(exprs.flatMap(({ expr }) => expr.match(/berth_[a-z0-9_]+/g) ?? []));
    for (const metric of [
      'berth_connections',
      'berth_acquire_wait_seconds_bucket',
      'berth_requests_total',
      'berth_request_duration_seconds_bucket',
      'berth_tls_handshake_seconds_count',
      'berth_h2_streams_active',
      'berth_ws_reconnects_total',
      'berth_scaler_decisions_total',
    ]) {
      expect(used, metric).toContain(metric);
    }
    expect(exprs.some(({ expr }) => expr.includes('reused="true"'))).toBe(true);
    expect(exprs.some(({ expr }) => expr.includes('resumed="true"'))).toBe(true);
  });

  it('queries only metrics and labels that collectMetrics() exports', () => {
    for (const { panel, expr } of exprs) {
      const refs = [...expr.matchAll(/(berth_[a-z0-9_]+)(\{([^}]*)\})?/g)];
      expect(refs.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      const available = new Set<string>();
      for (const [, metric, , matchers] of refs) {
        const labels = labelsOf(metric!);
        expect(labels, `${panel}: unknown metric ${metric}`).toBeDefined();
        for (const label of labels!) available.add(label);
        for (const [, label] of (matchers ?? '').matchAll(/([a-z_]+)\s*(=~|!=|!~|=)/g)) {
          expect(labels, `${panel}: ${metric} has no label ${label}`).toContain(label);
        }
      }
      for (const [, list] of expr.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of list!.split(',').map((l) => l.trim())) {
          expect(available, `${panel}: no metric in "${expr}" has label ${label}`).toContain(label);
        }
      }
    }
  });

  it('has unique panel ids, a grid within 24 columns, and component and region variables', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    expect(dashboard.uid).toBe('berth-pools');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'name', 'region']);
  });
});
