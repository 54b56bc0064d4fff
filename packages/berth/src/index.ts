/**
 * @packageDocumentation
 * The facade: `createBerth(config)` wires TLS, pools, routing, scaling, resilience and
 * metrics together. It lands with the packages it combines; until then it re-exports the
 * shared contracts so applications can already type against them.
 */
export { BerthError, isBerthError } from '@berth/core-types';
export type { ErrorCode, RequestOptions, ResponseData, Transport } from '@berth/core-types';
