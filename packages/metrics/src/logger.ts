import type { LogFields, Logger } from '@berth/core-types';
import { resolveLoggerOptions } from './options.js';
import type { ConsoleLoggerOptions, LoggerAdapterOptions, LogLevel } from './options.js';
import { redactFields } from './redact.js';

/**
 * The part of a pino logger the adapter uses: pino's `(mergingObject, message)` call form.
 * Structural, so this package needs no runtime dependency on pino.
 */
export interface PinoLike {
  /** Level 20. */
  debug(fields: Record<string, unknown>, message: string): void;
  /** Level 30. */
  info(fields: Record<string, unknown>, message: string): void;
  /** Level 40. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Level 50. */
  error(fields: Record<string, unknown>, message: string): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const EMPTY: LogFields = {};

/**
 * A Berth {@link Logger} writing to pino: fields become pino's merging object, so they come out
 * as top-level JSON properties. Headers and fields named `authorization`, `proxy-authorization`,
 * `cookie`, `set-cookie`, `x-api-key`, `api-key` (and `redactHeaders`) are replaced by
 * `REDACTED` at any depth, before pino sees them.
 *
 * @example
 * const logger = createPinoLogger(pino({ level: 'debug' }));
 * const pool = createHttpsPool({ origin, logger });
 */
export function createPinoLogger(pino: PinoLike, options?: LoggerAdapterOptions): Logger {
  const { redacted } = resolveLoggerOptions(options);
  const write = (level: LogLevel) => (message: string, fields?: LogFields) =>
    pino[level](redactFields(fields ?? EMPTY, redacted), message);
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * A Berth {@link Logger} writing one JSON object per line to the console
 * (`{"level":"warn","time":"…","msg":"…",…fields}`), at `level` and above, with the same
 * redaction as {@link createPinoLogger}. For services without a logging library.
 */
export function createConsoleLogger(options?: ConsoleLoggerOptions): Logger {
  const resolved = resolveLoggerOptions(options);
  const threshold = LEVELS.indexOf(resolved.level);
  const write = (level: LogLevel) => {
    if (LEVELS.indexOf(level) < threshold) return () => {};
    return (message: string, fields?: LogFields) => {
      const line = { level, time: new Date().toISOString(), msg: message, ...redactFields(fields ?? EMPTY, resolved.redacted) };
      // Looked up per line so a console replaced later (or by a test) is honoured.
      (resolved.console ?? console)[level](JSON.stringify(line, jsonSafe));
    };
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

// JSON.stringify throws on a bigint; a log line must never throw.
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
