// Byte sizes as nats-server's configuration writes them: a number of bytes or
// a string with a unit ("1MB", "64KB", "512K", "2G"); units are powers of 1024.

import { ConfigError } from './config-error.ts';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, M: 1024 ** 2, MB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, T: 1024 ** 4, TB: 1024 ** 4 };

export function parseSize(value: unknown, key: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new ConfigError(key, `must be a non-negative whole number of bytes, got ${value}`);
    return value;
  }
  if (typeof value === 'string') {
    const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
    const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
    if (m && unit !== undefined) return Number(m[1]) * unit;
  }
  throw new ConfigError(key, `must be a size such as 1048576, "64KB" or "1MB", got ${JSON.stringify(value)}`);
}
