/**
 * Bad input, requests: header injection (CR/LF/NUL), invalid methods and paths, hop-by-hop
 * headers, huge headers and oversized responses, through the facade on HTTP/1.1 and HTTP/2.
 * Every refusal is an ERR_BERTH_INVALID_REQUEST (or the size code) and the server never sees
 * the request.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import type { Berth } from 'berth';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';
import { burst, codeOf, exchange } from './harness.js';

const RUNS = 300;

/** A string with at least one CR, LF or NUL somewhere in it. */
const injected = fc
  .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\r', '\n', '\r\n', '\0', '\r\nX-Evil: 1'), fc.string({ maxLength: 20 }))
  .map(([a, bad, b]) => `${a}${bad}${b}`);

/** A method that is not an RFC 9110 token (empty, or with a space, a separator or a control character). */
const badMethod = fc.oneof(
  fc.constant(''),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(' ', '(', ')', '/', ':', '@', '\r\n', '\t', '"', '\u00e9'), fc.string({ maxLength: 8 }))
    .map(([a, bad, b]) => `${a}${bad}${b}`),
);

/** A header name that is not a token. */
const badHeaderName = fc
  .tuple(fc.stringMatching(/^[a-z]{0,6}$/), fc.constantFrom(' ', ':', '\r', '\n', '(', '"', '\u00ff'), fc.stringMatching(/^[a-z]{0,6}$/))
  .map(([a, bad, b]) => `${a}${bad}${b}`);

for (const protocol of ['h1', 'h2'] as const) {
  describe(`bad requests over ${protocol} through the facade`, () => {
    let server: TestServer;
    let berth: Berth;

    beforeEach(async () => {
      server = await startHttpServer({ protocol: protocol === 'h1' ? 'https' : 'h2' });
      berth = createBerth({
        origin: server.origin,
        protocol,
        tls: { ca: (await testPki()).ca.cert, useSystemRoots: false },
        scaling: false,
        pool: { maxResponseBytes: 4096, minIdle: 0 },
      });
      // One good request first: the connection is up, so every refusal below is the client's own.
      await exchange(berth, { path: '/warm' });
    });
    afterEach(async () => {
      await berth.close();
      await server.close();
    });

    const refused = async (request: Parameters<Berth['request']>[0]) => {
      const before = server.requests.length;
      let code = 'none';
      try {
        await exchange(berth, request);
      } catch (error) {
        code = codeOf(error);
      }
      expect(code).toBe('ERR_BERTH_INVALID_REQUEST');
      expect(server.requests.length).toBe(before);
    };

    it(`refuses ${RUNS} header values carrying CR, LF or NUL, sending nothing`, async () => {
      await fc.assert(fc.asyncProperty(injected, (value) => refused({ path: '/h', headers: { 'x-v': value } })), { numRuns: RUNS, seed: 13 });
      await fc.assert(fc.asyncProperty(injected, (value) => refused({ path: '/h', headers: { 'x-v': ['ok', value] } })), { numRuns: 50, seed: 14 });
    });

    it(`refuses ${RUNS} header names that are not tokens`, async () => {
      await fc.assert(fc.asyncProperty(badHeaderName, (name) => refused({ path: '/n', headers: { [name]: 'v' } })), { numRuns: RUNS, seed: 13 });
    });

    it(`refuses ${RUNS} invalid methods`, async () => {
      await fc.assert(fc.asyncProperty(badMethod, (method) => refused({ method, path: '/m' })), { numRuns: RUNS, seed: 13 });
    });

    it('refuses paths that are not origin-form or carry whitespace or control characters', async () => {
      for (const path of ['', 'relative', 'http://evil.example/', '/a b', '/a\r\nHost: evil', '/\0']) await refused({ path });
      await fc.assert(fc.asyncProperty(injected, (tail) => refused({ path: `/p${tail}` })), { numRuns: 100, seed: 13 });
    });

    const hopByHop = ['transfer-encoding', 'connection', 'upgrade', 'keep-alive'];
    if (protocol === 'h1') {
      it('refuses hop-by-hop headers the pool manages (request smuggling vectors)', async () => {
        for (const name of hopByHop) await refused({ path: '/c', headers: { [name]: name === 'transfer-encoding' ? 'chunked' : 'close' } });
      });
    } else {
      it('strips connection-specific headers (RFC 9113 §8.2.2): the request goes out without them', async () => {
        const headers = Object.fromEntries(hopByHop.map((name) => [name, 'close']));
        expect(await exchange(berth, { path: '/c', headers })).toBe('ok');
        const seen = server.requests.at(-1)?.headers ?? {};
        for (const name of hopByHop) expect(seen[name]).toBeUndefined();
      });
    }

    it('a response over maxResponseBytes fails with ERR_BERTH_BODY_TOO_LARGE under concurrent load; small ones complete', async () => {
      // The per-request limit (both protocols); h1 also has the pool-wide pool.maxResponseBytes.
      const tally = await burst(10, (i) =>
        exchange(berth, {
          path: '/big',
          maxResponseBytes: 4096,
          headers: { 'x-berth-behaviour': JSON.stringify({ bodyBytes: i < 5 ? 64 * 1024 : 100 }) },
        }),
      );
      expect(tally).toEqual({ succeeded: 5, failed: { ERR_BERTH_BODY_TOO_LARGE: 5 } });
      if (protocol === 'h1') {
        const pooled = await burst(4, (i) => exchange(berth, { path: '/big', headers: { 'x-berth-behaviour': JSON.stringify({ bodyBytes: i < 2 ? 8192 : 10 }) } }));
        expect(pooled).toEqual({ succeeded: 2, failed: { ERR_BERTH_BODY_TOO_LARGE: 2 } });
      }
    });

    it('a 64 KiB header value never reaches a handler: a 431 from the server (h1) or ERR_BERTH_INVALID_REQUEST before sending (h2), never a hang', async () => {
      const before = server.requests.length;
      let outcome: string;
      try {
        const res = await berth.request({ path: '/huge', headers: { 'x-huge': 'a'.repeat(64 * 1024) }, timeoutMs: 5000 });
        outcome = String(res.status);
        await res.dump();
      } catch (error) {
        outcome = codeOf(error);
      }
      // h1: the server's limit (16 KiB) answers. h2: the multiplexer checks the HPACK header-list
      // size (RFC 9113 §6.5.2) against maxHeaderListBytes and the server's SETTINGS before
      // sending, so nothing looks like a retryable REFUSED_STREAM.
      expect(outcome).toBe(protocol === 'h1' ? '431' : 'ERR_BERTH_INVALID_REQUEST');
      expect(server.requests.length).toBe(before);
    });
  });
}
