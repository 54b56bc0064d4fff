import { BerthError } from '@berth/core-types';
import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsoleLogger, createPinoLogger } from './logger.js';
import type { ConsoleLike } from './options.js';

function capturedPino(level = 'debug'): { logger: PinoLogger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = pino({ level }, { write: (chunk: string) => void out.push(chunk) });
  return { logger, lines: () => out.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function capturedConsole(): { console: ConsoleLike; calls: [string, string][] } {
  const calls: [string, string][] = [];
  const at = (level: string) => (line: string) => void calls.push([level, line]);
  return { console: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, calls };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createPinoLogger', () => {
  it('writes structured fields as top-level pino properties at the matching level', () => {
    const { logger, lines } = capturedPino();
    const log = createPinoLogger(logger);
    log.debug('opened', { connectionId: 'c1', handshakeMs: 2.5 });
    log.info('resized', { from: 2, to: 4 });
    log.warn('slow');
    log.error('failed', { attempt: 3 });
    expect(lines().map((l) => [l['level'], l['msg'], l['connectionId'] ?? l['to'] ?? l['attempt']])).toEqual([
      [20, 'opened', 'c1'],
      [30, 'resized', 4],
      [40, 'slow', undefined],
      [50, 'failed', 3],
    ]);
  });

  it('redacts Authorization, Cookie, Set-Cookie, Proxy-Authorization, API keys and configured names at any depth', () => {
    const { logger, lines } = capturedPino();
    const log = createPinoLogger(logger, { redactHeaders: ['X-Tenant-Token'] });
    log.info('request', {
      Authorization: 'Bearer top-1',
      request: {
        headers: {
          cookie: 'session=top-2',
          'Proxy-Authorization': 'Basic top-3',
          'x-api-key': 'top-4',
          'x-tenant-token': 'top-5',
          accept: 'application/json',
        },
      },
      response: { headers: [{ 'set-cookie': ['a=top-6'] }] },
    });
    const [line] = lines();
    const text = JSON.stringify(line);
    for (let i = 1; i <= 6; i += 1) expect(text).not.toContain(`top-${i}`);
    expect(line).toMatchObject({
      Authorization: 'REDACTED',
      request: { headers: { cookie: 'REDACTED', 'Proxy-Authorization': 'REDACTED', accept: 'application/json' } },
      response: { headers: [{ 'set-cookie': 'REDACTED' }] },
    });
  });

  it('logs errors as name, code, message and cause, and survives cycles, deep nesting and bytes', () => {
    const { logger, lines } = capturedPino();
    const log = createPinoLogger(logger);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    let deep: Record<string, unknown> = { bottom: true };
    for (let i = 0; i < 12; i += 1) deep = { next: deep };
    const error = new BerthError('ERR_BERTH_CONNECT_REFUSED', 'connect to x refused', { cause: new Error('ECONNREFUSED') });
    log.error('connect failed', { error, cyclic, deep, body: new Uint8Array(12) });
    const [line] = lines();
    expect(line?.['error']).toEqual({
      name: 'BerthError',
      message: 'connect to x refused',
      code: 'ERR_BERTH_CONNECT_REFUSED',
      cause: { name: 'Error', message: 'ECONNREFUSED' },
    });
    expect(line?.['cyclic']).toEqual({ name: 'loop', self: '[Circular]' });
    expect(JSON.stringify(line?.['deep'])).toContain('[Truncated]');
    expect(line?.['body']).toBe('[12 bytes]');
  });

  it('rejects an invalid header name in redactHeaders with ERR_BERTH_CONFIG', () => {
    expect(() => createPinoLogger(capturedPino().logger, { redactHeaders: ['bad name'] })).toThrow(
      expect.objectContaining({ code: 'ERR_BERTH_CONFIG', problems: [expect.objectContaining({ path: 'redactHeaders' })] }),
    );
  });
});

describe('createConsoleLogger', () => {
  it('writes one JSON object per line from the given level up, redacted', () => {
    const { console: out, calls } = capturedConsole();
    const log = createConsoleLogger({ console: out, level: 'info' });
    log.debug('hidden');
    log.info('ready', { headers: { authorization: 'Bearer top' }, size: 10n });
    log.error('broken');
    expect(calls.map(([level]) => level)).toEqual(['info', 'error']);
    const line = JSON.parse(calls[0]![1]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'ready', headers: { authorization: 'REDACTED' }, size: '10' });
    expect(typeof line['time']).toBe('string');
  });

  it('writes to the global console by default, at info and above', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const log = createConsoleLogger();
    log.warn('careful', { cookie: 'c=1' });
    log.debug('quiet');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toContain('"cookie":"REDACTED"');
    expect(debug).not.toHaveBeenCalled();
  });

  it('reports every invalid option at once', () => {
    expect(() => createConsoleLogger({ level: 'verbose' as never, console: {} as ConsoleLike, redactHeaders: [''] })).toThrow(
      expect.objectContaining({
        code: 'ERR_BERTH_CONFIG',
        problems: ['redactHeaders', 'level', 'console'].map((path): unknown => expect.objectContaining({ path })),
      }),
    );
  });
});
