// Structured logs with pino (fastify's logger, so one format for the whole
// process). Levels: fatal, error, warn, info, debug (connections) and trace
// (every protocol operation).

import { pino, type Logger } from 'pino';
import { textLogStream } from './text-log-stream.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Append to this file instead of writing to standard output. */
  file?: string;
  /** json (default) or text (text-log-stream.ts). */
  format?: 'json' | 'text';
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.file === undefined ? pino.destination({ dest: 1, sync: true }) : pino.destination({ dest: options.file, sync: false, mkdir: true });
  const out = options.format === 'text' ? textLogStream(destination) : destination;
  return pino({ level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, out);
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
