import { describe, expect, it } from 'vitest';
import type { Transport } from '@berth/core-types';
import { Region } from './region.js';
import type { LiveAttempt } from './region.js';

const transport: Transport = {
  request: () => Promise.reject(new Error('unused')),
  stats: () => ({ kind: 'none', name: 'none', state: 'ready', requests: 0, inFlight: 0, queued: 0, errors: 0 }),
  close: () => Promise.resolve(),
};

function attempt(): LiveAttempt {
  return { replayable: true, slot: -1, cut: () => {} };
}

describe('Region waiting attempts', () => {
  it('tracks and forgets attempts in any order, keeping every other one', () => {
    const region = new Region({ name: 'a', transport, priority: 0, weight: 1 }, 30, 0);
    const [x, y, z] = [attempt(), attempt(), attempt()];
    for (const a of [x, y, z]) region.track(a);
    region.untrack(x);
    expect(region.waiting()).toEqual(expect.arrayContaining([y, z]));
    expect(region.waiting()).toHaveLength(2);
    region.untrack(z);
    expect(region.waiting()).toEqual([y]);
    region.untrack(y);
    expect(region.waiting()).toEqual([]);
  });

  it('ignores forgetting an attempt twice or one it never tracked', () => {
    const region = new Region({ name: 'a', transport, priority: 0, weight: 1 }, 30, 0);
    const [x, y] = [attempt(), attempt()];
    region.track(x);
    region.untrack(y);
    region.untrack(x);
    region.untrack(x);
    expect(region.waiting()).toEqual([]);
    region.track(y);
    expect(region.waiting()).toEqual([y]);
  });

  it('hands out a copy, so cutting attempts while iterating misses none', () => {
    const region = new Region({ name: 'a', transport, priority: 0, weight: 1 }, 30, 0);
    const all = [attempt(), attempt(), attempt()];
    for (const a of all) region.track(a);
    const cut: LiveAttempt[] = [];
    for (const a of region.waiting()) {
      region.untrack(a);
      cut.push(a);
    }
    expect(cut).toHaveLength(3);
    expect(region.waiting()).toEqual([]);
  });
});
