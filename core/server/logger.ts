// Structured logs with pino (fastify's logger, so one format for the whole
// process). Levels: fatal, error, warn, info, debug (connections) and trace
// (every protocol operation).

import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Append to this file instead of writing to standard output. */
  file?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.file === undefined ? pino.destination({ dest: 1, sync: true }) : pino.destination({ dest: options.file, sync: false, mkdir: true });
  return pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
