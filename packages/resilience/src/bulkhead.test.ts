import { describe, expect, it } from 'vitest';
import { BerthError } from '@berth/core-types';
import { createBulkhead } from './bulkhead.js';

describe('Bulkhead', () => {
  it('runs maxConcurrent at once, queues maxQueued more in order, and refuses the rest with ERR_BERTH_QUEUE_FULL', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 2, maxQueued: 2 });
    const order: string[] = [];
    const r1 = await bulkhead.acquire('k');
    const r2 = await bulkhead.acquire('k');
    const q1 = bulkhead.acquire('k').then((r) => (order.push('q1'), r));
    const q2 = bulkhead.acquire('k').then((r) => (order.push('q2'), r));
    const error = await bulkhead.acquire('k').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL', details: { key: 'k', active: 2, queued: 2 } });
    expect(bulkhead.stats().keys['k']).toEqual({ active: 2, queued: 2, rejected: 1 });
    r1();
    r1();
    const r3 = await q1;
    expect(order).toEqual(['q1']);
    r2();
    const r4 = await q2;
    expect(order).toEqual(['q1', 'q2']);
    r3();
    r4();
    expect(bulkhead.stats().keys).toEqual({});
    expect(bulkhead.rejectedTotal()).toBe(1);
  });

  it('lets an aborted waiter leave the queue at once (no starvation, cockatiel #112)', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const release = await bulkhead.acquire('k');
    const controller = new AbortController();
    const waiting = bulkhead.acquire('k', controller.signal);
    const reason = new BerthError('ERR_BERTH_ABORTED', 'gave up');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    const next = bulkhead.acquire('k');
    release();
    const r = await next;
    r();
    await expect(bulkhead.acquire('k', controller.signal)).rejects.toBe(reason);
  });

  it('turns a plain abort into ERR_BERTH_ABORTED', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1 });
    const release = await bulkhead.acquire('k');
    const controller = new AbortController();
    const waiting = bulkhead.acquire('k', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED', message: 'aborted while waiting for a bulkhead place of k' });
    await expect(bulkhead.acquire('k', controller.signal)).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    release();
  });

  it('keeps keys apart and releases in run() whatever happens', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueued: 0 });
    await expect(bulkhead.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const held = await bulkhead.acquire('a');
    expect(await bulkhead.run('b', () => Promise.resolve('b ran'))).toBe('b ran');
    await expect(bulkhead.run('a', () => Promise.resolve('never'))).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    held();
  });
});
