/**
 * @packageDocumentation
 * Retry with full-jitter backoff and a retry budget, circuit breakers, token-bucket rate limits and bulkheads.
 */
export {};
