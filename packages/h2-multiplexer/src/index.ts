/**
 * @packageDocumentation
 * HTTP/2 sessions over node:http2: stream slots, a priority queue, adaptive flow-control windows and GOAWAY handling.
 */
export {};
