/**
 * @packageDocumentation
 * Test infrastructure for Berth (private): a PKI generated at test time, scriptable loopback
 * HTTPS / HTTP/2 / h2c / WebSocket servers, a fault-injecting TCP proxy and a leak guard.
 * Real parts only: nothing here mocks `net`, `tls` or `http2`.
 */

export { testPki, spkiPinOf } from './pki.js';
export type { CertKeyPair, TestPki } from './pki.js';
export { startHttpServer } from './http-server.js';
export type { ServerTlsOptions, TestServer, TestServerOptions } from './http-server.js';
export type { Behaviour, RecordedRequest } from './behaviour.js';
export { startWsServer } from './ws-server.js';
export type { ReceivedMessage, TestWsServer, TestWsServerOptions } from './ws-server.js';
export { startFaultProxy } from './fault-proxy.js';
export type { FaultProxy, FaultSettings, ProxyMode } from './fault-proxy.js';
export { activeResourceCounts, leaksSince, waitForNoLeaks, WATCHED_RESOURCES } from './leak-guard.js';
export { liveResources } from './registry.js';
export type { TrackedResource } from './registry.js';
export { createTestConnector } from './test-connector.js';
export type { TestConnectorOptions } from './test-connector.js';
export { createTestTransport } from './test-transport.js';
export type { TestTransportOptions } from './test-transport.js';
export { seededRandom } from './random.js';
