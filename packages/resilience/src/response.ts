import type { ResponseData, ResponseMeta } from '@berth/core-types';

/**
 * The same response with some `meta` fields replaced. Delegates instead of spreading, so
 * body helpers that live on a class prototype keep working. `onBodyDone`, when given, runs
 * as soon as a body helper settles (it may also run from elsewhere; it must be idempotent).
 */
export function withMeta(response: ResponseData, patch: Partial<ResponseMeta>, onBodyDone?: () => void): ResponseData {
  const meta: ResponseMeta = { ...response.meta, ...patch };
  const after = <T>(promise: Promise<T>): Promise<T> => (onBodyDone === undefined ? promise : promise.finally(onBodyDone));
  return {
    status: response.status,
    headers: response.headers,
    body: response.body,
    text: () => after(response.text()),
    json: <T>() => after(response.json<T>()),
    arrayBuffer: () => after(response.arrayBuffer()),
    dump: () => after(response.dump()),
    meta,
  };
}
