import { describe, expect, it } from 'vitest';
import { runDemo } from './demo-scenario.js';

describe('pnpm demo', () => {
  it('runs the whole scenario in a short run without losing a request or a ws message, and closes everything', async () => {
    const lines: string[] = [];
    const summary = await runDemo(8, (line) => lines.push(line));
    const text = lines.join('\n');
    expect(summary.exitCode, text).toBe(0);
    expect(summary.requests).toBeGreaterThan(50);
    expect(summary.failed).toBe(0);
    expect(summary.wsLost).toBe(0);
    expect(summary.wsReceived).toBe(summary.wsSent);
    expect(summary.failoverMs).toBeDefined();
    for (const label of ['requests', 'failed', 'reuse rate', 'latency p50 / p99', 'failover time', 'TLS resumption', 'ws messages']) {
      expect(text).toMatch(new RegExp(`^  ${label.replace(/[/]/g, '\\/')}\\s`, 'm'));
    }
    expect(text).toContain('OK: no request and no ws message lost.');
    // The live table ran: one block per second with every region.
    expect(text.match(/^t=\s*\d+s/gm)?.length).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/eu-west\s+http\/1\.1/);
    expect(text).toMatch(/us-east\s+h2/);
  }, 30_000);
});
