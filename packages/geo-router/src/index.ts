/**
 * @packageDocumentation
 * Routes each request to the best region by Peak-EWMA latency, with outlier ejection, failover and hedging.
 */
export {};
