import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '@berth/core-types';
import { AdmissionGate } from './admission-gate.js';
import type { GateFailures } from './admission-gate.js';

const failures: GateFailures = {
  timeout: (ms) => Object.assign(new Error(`timeout after ${ms}`), { code: 'T' }),
  aborted: () => Object.assign(new Error('aborted'), { code: 'A' }),
};

describe('AdmissionGate', () => {
  it('lends permits at once up to the target, then queues by urgency and FIFO within one urgency', async () => {
    const gate = new AdmissionGate(1, systemClock);
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(false);
    const order: string[] = [];
    const waits = [
      gate.wait(5, 10_000, undefined, failures).then(() => order.push('u5')),
      gate.wait(1, 10_000, undefined, failures).then(() => order.push('u1-a')),
      gate.wait(3, 10_000, undefined, failures).then(() => order.push('u3')),
      gate.wait(1, 10_000, undefined, failures).then(() => order.push('u1-b')),
    ];
    expect(gate.waiting).toBe(4);
    for (let i = 0; i < 4; i += 1) {
      gate.release();
      await Promise.resolve();
      await Promise.resolve();
    }
    await Promise.all(waits);
    expect(order).toEqual(['u1-a', 'u1-b', 'u3', 'u5']);
    expect(gate.inUse).toBe(1);
  });

  it('serves waiters at once when the target grows and holds new ones back after it shrinks', async () => {
    const gate = new AdmissionGate(1, systemClock);
    gate.tryAcquire();
    const a = gate.wait(3, 10_000, undefined, failures);
    const b = gate.wait(3, 10_000, undefined, failures);
    gate.setTarget(3);
    await Promise.all([a, b]);
    expect(gate.inUse).toBe(3);
    gate.setTarget(1);
    gate.release();
    expect(gate.tryAcquire()).toBe(false);
    gate.release();
    gate.release();
    expect(gate.tryAcquire()).toBe(true);
  });

  it('fails a waiter after its deadline and on its abort signal, and never hands it a permit later', async () => {
    vi.useFakeTimers();
    try {
      const gate = new AdmissionGate(1, systemClock);
      gate.tryAcquire();
      const timedOut = gate.wait(3, 100, undefined, failures).catch((e: Error) => e.message);
      const ac = new AbortController();
      const aborted = gate.wait(3, 10_000, ac.signal, failures).catch((e: Error) => e.message);
      ac.abort();
      await vi.advanceTimersByTimeAsync(100);
      expect(await timedOut).toBe('timeout after 100');
      expect(await aborted).toBe('aborted');
      expect(gate.waiting).toBe(0);
      gate.release();
      expect(gate.inUse).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects every waiter on rejectAll', async () => {
    const gate = new AdmissionGate(1, systemClock);
    gate.tryAcquire();
    const w = gate.wait(0, 10_000, undefined, failures).catch((e: Error) => e.message);
    gate.rejectAll(new Error('closed'));
    expect(await w).toBe('closed');
    expect(gate.waiting).toBe(0);
  });
});
