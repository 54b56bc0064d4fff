/**
 * @packageDocumentation
 * A control loop that sizes a pool to its load without scaling into a congested upstream.
 */
export {};
