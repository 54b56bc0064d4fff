/** Structured fields attached to a log line. Values must be JSON-serializable. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging contract every component accepts. The default is {@link silentLogger};
 * `@berth/metrics` ships adapters for pino and the console with header redaction.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Drops everything. Berth is silent unless the application passes a logger. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
