/**
 * @packageDocumentation
 * One secure, fast TLS setup for every pool: one shared SecureContext, CA store, pinning, session resumption and an ALPN probe.
 */
export {};
