/**
 * @packageDocumentation
 * WebSocket pool over ws: heartbeat, jittered reconnect, bounded send buffer, channels and make-before-break rotation.
 */
export {};
