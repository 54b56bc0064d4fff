/**
 * Writes docs/scaler-scenarios.svg: each load scenario run through the real decide() by
 * simulate(), drawn as load (connections it needs), pool size and acquire wait over time.
 *
 *   npx tsx --conditions=@berth/source scripts/render-chart.ts
 *
 * The SVG is written by hand: the chart is a few polylines, and no charting library kept in
 * the workspace renders a static file without a browser (a headless browser for one picture
 * would be a heavier dependency than these 200 lines).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCALER_SCENARIOS, simulate } from '../src/index.js';
import type { SimulationResult } from '../src/index.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'scaler-scenarios.svg');

const PANEL_W = 540;
const PANEL_H = 250;
const MARGIN = { left: 48, right: 14, top: 30, bottom: 10 };
const WAIT_H = 64;
const GAP = 18;
const COLUMNS = 2;
const COLORS = { size: '#1f6feb', need: '#8b949e', upstream: '#cf222e', wait: '#d97706', hold: '#8250df', grid: '#e5e7eb' };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number): string => n.toFixed(1);

/** A round tick step (1, 2 or 5 × 10^k) giving at most four divisions up to `value`. */
function niceStep(value: number): number {
  const rough = Math.max(1, value) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

function panel(result: SimulationResult, x0: number, y0: number): string {
  const { profile, points } = result;
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const mainH = PANEL_H - MARGIN.top - MARGIN.bottom - WAIT_H - 16;
  const waitTop = MARGIN.top + mainH + 16;
  const upstream = profile.model.upstreamConcurrency;
  const highest = Math.max(...points.map((p) => Math.max(p.size, p.neededConnections)), upstream ?? 0) * 1.05;
  const yStep = niceStep(highest);
  const yMax = yStep * Math.ceil(highest / yStep);
  const tx = (t: number): number => x0 + MARGIN.left + (t / profile.durationMs) * plotW;
  const ty = (v: number): number => y0 + MARGIN.top + mainH - (v / yMax) * mainH;
  // Acquire wait on a log scale from 1 ms to 30 s: it spans four orders of magnitude.
  const WAIT_MIN = 1;
  const WAIT_MAX = 30_000;
  const tw = (ms: number): number => {
    const clamped = Math.min(WAIT_MAX, Math.max(WAIT_MIN, ms));
    const f = Math.log10(clamped / WAIT_MIN) / Math.log10(WAIT_MAX / WAIT_MIN);
    return y0 + waitTop + WAIT_H - f * WAIT_H;
  };
  const out: string[] = [];
  out.push(`<text x="${x0 + MARGIN.left}" y="${y0 + 18}" class="title">${esc(profile.title)}</text>`);
  // Grid and axes.
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${tx(0)}" x2="${tx(profile.durationMs)}" y1="${fmt(ty(v))}" y2="${fmt(ty(v))}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${tx(0) - 6}" y="${fmt(ty(v) + 4)}" class="tick" text-anchor="end">${v}</text>`);
  }
  for (let minute = 0; minute * 60_000 <= profile.durationMs; minute += 5) {
    const x = fmt(tx(minute * 60_000));
    out.push(`<line x1="${x}" x2="${x}" y1="${fmt(ty(yMax))}" y2="${fmt(tw(WAIT_MIN))}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${x}" y="${fmt(tw(WAIT_MIN) + 12)}" class="tick" text-anchor="middle">${minute}m</text>`);
  }
  // Upstream concurrency, when the scenario has one.
  if (upstream !== undefined) {
    const y = fmt(ty(upstream));
    out.push(`<line x1="${tx(0)}" x2="${tx(profile.durationMs)}" y1="${y}" y2="${y}" stroke="${COLORS.upstream}" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${tx(profile.durationMs) - 4}" y="${fmt(ty(0) - 6)}" class="tick" fill="${COLORS.upstream}" text-anchor="end">upstream serves ${upstream} at once (dotted)</text>`);
  }
  // Load, in the connections it needs (offered rate × uncontended service time).
  const need = points.map((p) => `${fmt(tx(p.t))},${fmt(ty(p.neededConnections))}`).join(' ');
  out.push(`<polyline points="${need}" fill="none" stroke="${COLORS.need}" stroke-width="1.5" stroke-dasharray="5 3"/>`);
  // Pool size as steps: a size holds until the next decision.
  const first = points[0];
  const initial = result.decisions[0]?.from ?? first?.size ?? 0;
  const steps: string[] = [`${fmt(tx(0))},${fmt(ty(initial))}`];
  let previous = initial;
  for (const p of points) {
    steps.push(`${fmt(tx(p.t))},${fmt(ty(previous))}`, `${fmt(tx(p.t))},${fmt(ty(p.size))}`);
    previous = p.size;
  }
  out.push(`<polyline points="${steps.join(' ')}" fill="none" stroke="${COLORS.size}" stroke-width="2"/>`);
  // Holds for congestion, saturation or an undone step, as marks above the plot.
  for (const p of points) {
    if (p.reason === 'congestion' || p.reason === 'saturated' || p.reason === 'no-gain') {
      const undone = p.reason === 'no-gain';
      const shape = undone ? 'M-4,-4 L4,4 M-4,4 L4,-4' : 'M0,-3 L0,3';
      const yy = p.reason === 'congestion' ? ty(yMax) + 6 : ty(yMax) + 16;
      const style = undone ? 'stroke-width="2"' : 'stroke-width="1.2" stroke-opacity="0.45"';
      out.push(`<path d="${shape}" transform="translate(${fmt(tx(p.t))},${fmt(yy)})" stroke="${COLORS.hold}" ${style}/>`);
    }
  }
  // Wait strip.
  out.push(`<rect x="${tx(0)}" y="${fmt(tw(WAIT_MAX))}" width="${plotW}" height="${WAIT_H}" fill="none" stroke="${COLORS.grid}"/>`);
  for (const ms of [10, 100, 1000, 10_000]) {
    const labelled = ms === 100 || ms === 10_000;
    out.push(`<line x1="${tx(0)}" x2="${tx(profile.durationMs)}" y1="${fmt(tw(ms))}" y2="${fmt(tw(ms))}" stroke="${COLORS.grid}" stroke-dasharray="1 3"/>`);
    if (labelled) out.push(`<text x="${tx(0) - 6}" y="${fmt(tw(ms) + 3)}" class="tick" text-anchor="end">${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}</text>`);
  }
  const threshold = fmt(tw(100));
  out.push(`<line x1="${tx(0)}" x2="${tx(profile.durationMs)}" y1="${threshold}" y2="${threshold}" stroke="${COLORS.wait}" stroke-opacity="0.5"/>`);
  const wait = points.map((p) => `${fmt(tx(p.t))},${fmt(tw(p.waitMs))}`);
  const base = fmt(tw(WAIT_MIN));
  out.push(
    `<polygon points="${fmt(tx(first?.t ?? 0))},${base} ${wait.join(' ')} ${fmt(tx(points.at(-1)?.t ?? 0))},${base}" fill="${COLORS.wait}" fill-opacity="0.35" stroke="${COLORS.wait}" stroke-width="1"/>`,
  );
  return out.join('\n');
}

function legend(x: number, y: number): string {
  const rows: [string, string][] = [
    [`<line x1="0" x2="26" y1="0" y2="0" stroke="${COLORS.size}" stroke-width="2"/>`, 'pool size (target set by the scaler)'],
    [`<line x1="0" x2="26" y1="0" y2="0" stroke="${COLORS.need}" stroke-width="1.5" stroke-dasharray="5 3"/>`, 'load, as connections it needs (req/s × 100 ms)'],
    [`<line x1="0" x2="26" y1="0" y2="0" stroke="${COLORS.upstream}" stroke-dasharray="2 3"/>`, 'requests the upstream serves at once'],
    [`<rect x="0" y="-6" width="26" height="12" fill="${COLORS.wait}" fill-opacity="0.35" stroke="${COLORS.wait}"/>`, 'mean acquire wait (log scale, 1 ms – 30 s; line at 100 ms)'],
    [`<path d="M13,-3 L13,3" stroke="${COLORS.hold}" stroke-width="1.2" stroke-opacity="0.45"/>`, 'growth held: congestion (upper row), at a ceiling (lower row)'],
    [`<path d="M9,-4 L17,4 M9,4 L17,-4" stroke="${COLORS.hold}" stroke-width="2"/>`, 'growth step undone: it raised latency, not throughput'],
  ];
  const out = [`<text x="${x}" y="${y}" class="title">Adaptive scaler, default options, simulated</text>`];
  out.push(
    `<text x="${x}" y="${y + 18}" class="note">Decisions every 10 s by the real decide(); the pool is an M/M/c queue model</text>`,
    `<text x="${x}" y="${y + 32}" class="note">with a 100 ms upstream service time (scripts/render-chart.ts).</text>`,
  );
  rows.forEach(([mark, label], i) => {
    const yy = y + 58 + i * 22;
    out.push(`<g transform="translate(${x},${yy})">${mark}</g>`);
    out.push(`<text x="${x + 36}" y="${yy + 4}" class="label">${esc(label)}</text>`);
  });
  return out.join('\n');
}

const scenarios = [
  SCALER_SCENARIOS.ramp,
  SCALER_SCENARIOS.spike,
  SCALER_SCENARIOS.drop,
  SCALER_SCENARIOS.saturated,
  SCALER_SCENARIOS.slowdown,
];
const results = scenarios.map((profile) => simulate(profile));
const rows = Math.ceil((results.length + 1) / COLUMNS);
const width = COLUMNS * PANEL_W + (COLUMNS - 1) * GAP + 20;
const height = rows * PANEL_H + (rows - 1) * GAP + 20;
const cells = results.map((r, i) => panel(r, 10 + (i % COLUMNS) * (PANEL_W + GAP), 10 + Math.floor(i / COLUMNS) * (PANEL_H + GAP)));
const legendIndex = results.length;
cells.push(
  legend(
    10 + (legendIndex % COLUMNS) * (PANEL_W + GAP) + MARGIN.left,
    10 + Math.floor(legendIndex / COLUMNS) * (PANEL_H + GAP) + 24,
  ),
);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">
<style>
  .title { font-size: 13px; font-weight: 600; fill: #1f2328; }
  .note { font-size: 11px; fill: #57606a; }
  .label { font-size: 12px; fill: #1f2328; }
  .tick { font-size: 10px; fill: #57606a; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${cells.join('\n')}
</svg>
`;
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, svg);
console.log(`wrote ${OUT} (${results.map((r) => `${r.profile.name}: ${r.decisions.filter((d) => d.action !== 'hold').length} resizes`).join(', ')})`);
