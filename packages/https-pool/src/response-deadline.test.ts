import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '@berth/core-types';
import { ResponseDeadline } from './response-deadline.js';
import type { ResponsePhase } from './response-deadline.js';

const FAKE: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'performance'] };

afterEach(() => {
  vi.useRealTimers();
});

function watcher(): { deadlinePassed: (phase: ResponsePhase, ms: number) => void; fired: number[]; phases: ResponsePhase[] } {
  const fired: number[] = [];
  const phases: ResponsePhase[] = [];
  return {
    fired,
    phases,
    deadlinePassed: (phase, ms) => {
      phases.push(phase);
      fired.push(ms);
    },
  };
}

describe('ResponseDeadline', () => {
  it('fires exactly bodyTimeoutMs after the last chunk, however often chunks came before', async () => {
    vi.useFakeTimers(FAKE);
    const d = new ResponseDeadline(systemClock);
    const w = watcher();
    d.start(w, 'body', 100);
    for (let i = 0; i < 5; i += 1) {
      await vi.advanceTimersByTimeAsync(60);
      d.progress();
    }
    await vi.advanceTimersByTimeAsync(99);
    expect(w.fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.fired).toEqual([100]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer per connection across requests and re-arms it earlier for a shorter window', async () => {
    vi.useFakeTimers(FAKE);
    const d = new ResponseDeadline(systemClock);
    const first = watcher();
    d.start(first, 'body', 10_000);
    d.stop();
    const second = watcher();
    d.start(second, 'body', 50);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(second.fired).toEqual([50]);
    expect(first.fired).toEqual([]);
  });

  it('does not fire for a body that ended, and lets its timer lapse without re-arming', async () => {
    vi.useFakeTimers(FAKE);
    const d = new ResponseDeadline(systemClock);
    const w = watcher();
    d.start(w, 'body', 100);
    d.stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(w.fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not count time while the consumer applies backpressure; a fresh window starts on resume', async () => {
    vi.useFakeTimers(FAKE);
    const d = new ResponseDeadline(systemClock);
    const w = watcher();
    d.start(w, 'body', 100);
    d.pause();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(w.fired).toEqual([]);
    d.resume();
    d.resume(); // already reading: no-op
    await vi.advanceTimersByTimeAsync(99);
    expect(w.fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.fired).toEqual([100]);
  });

  it('leaves no timer once disposed', async () => {
    vi.useFakeTimers(FAKE);
    const d = new ResponseDeadline(systemClock);
    const w = watcher();
    d.start(w, 'body', 100);
    d.dispose();
    d.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(w.fired).toEqual([]);
  });

  it('reports the phase it watched: the headers deadline, then the body one on the same timer', async () => {
    vi.useFakeTimers(FAKE);
    const d = new ResponseDeadline(systemClock);
    const w = watcher();
    d.start(w, 'headers', 200, performance.now());
    await vi.advanceTimersByTimeAsync(150);
    d.progress(); // an informational head
    await vi.advanceTimersByTimeAsync(199);
    expect(w.phases).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.phases).toEqual(['headers']);
    d.start(w, 'body', 50);
    await vi.advanceTimersByTimeAsync(50);
    expect(w.phases).toEqual(['headers', 'body']);
    expect(w.fired).toEqual([200, 50]);
  });
});
