/**
 * @packageDocumentation
 * HTTP/1.1 connection pool: generic-pool slots over undici Clients, pre-warmed, validated, aged and observable.
 */
export {};
