import type { Clock, TimerHandle } from '@berth/core-types';

interface Entry {
  readonly id: number;
  due: number;
  readonly fn: () => void;
  readonly every: number | undefined;
}

/** A Clock whose time moves only when the test says so. Network I/O stays real. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing each due timer at its own due time, in order. */
  advance(ms: number): void;
  /** Moves time forward by `ms` at once, then fires what is due: every timer fires late (an event-loop stall). */
  jump(ms: number): void;
  /** Timers pending. */
  pending(): number;
  /** Due times of pending timers, relative to now. */
  dueIn(): number[];
}

export function manualClock(start = 1_000): ManualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, Entry>();
  const handle = (id: number): TimerHandle & { id: number } => ({
    id,
    unref: () => undefined,
    ref: () => undefined,
    hasRef: () => false,
  });
  const add = (fn: () => void, ms: number, every: number | undefined): TimerHandle => {
    const id = nextId++;
    timers.set(id, { id, due: now + Math.max(0, ms), fn, every });
    return handle(id);
  };
  const clear = (h: TimerHandle | undefined) => {
    if (h !== undefined) timers.delete((h as TimerHandle & { id: number }).id);
  };
  const fireDue = (until: number, moveTime: boolean) => {
    for (;;) {
      let next: Entry | undefined;
      for (const entry of timers.values()) if (entry.due <= until && (next === undefined || entry.due < next.due)) next = entry;
      if (next === undefined) break;
      if (moveTime) now = Math.max(now, next.due);
      if (next.every === undefined) timers.delete(next.id);
      else next.due += next.every;
      next.fn();
    }
    now = until;
  };
  return {
    now: () => now,
    wallNow: () => 1_700_000_000_000 + now,
    setTimeout: (fn, ms) => add(fn, ms, undefined),
    clearTimeout: clear,
    setInterval: (fn, ms) => add(fn, ms, ms),
    clearInterval: clear,
    advance: (ms) => fireDue(now + ms, true),
    jump: (ms) => {
      now += ms;
      fireDue(now, false);
    },
    pending: () => timers.size,
    dueIn: () => [...timers.values()].map((e) => e.due - now).sort((a, b) => a - b),
  };
}
