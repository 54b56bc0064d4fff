import type { ResponseData, ResponseMeta } from '@berth/core-types';

/**
 * The same response with some `meta` fields replaced. Delegates instead of spreading, so
 * body helpers that live on a class prototype keep working.
 */
export function withMeta(response: ResponseData, patch: Partial<ResponseMeta>): ResponseData {
  const meta: ResponseMeta = { ...response.meta, ...patch };
  return {
    status: response.status,
    headers: response.headers,
    body: response.body,
    text: () => response.text(),
    json: <T>() => response.json<T>(),
    arrayBuffer: () => response.arrayBuffer(),
    dump: () => response.dump(),
    meta,
  };
}
