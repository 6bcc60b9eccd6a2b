// Durations as nats-server's configuration writes them: a Go duration string
// ("2m", "1h30m", "500ms", "1.5s") or a bare number of seconds.

import { ConfigError } from './config-error.ts';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds, or a ConfigError naming `key`. */
export function parseDurationMs(value: unknown, key: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(key, `must be a non-negative number of seconds, got ${value}`);
    return value * 1000;
  }
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(key, `must be a duration such as "2m" or a number of seconds, got ${JSON.stringify(value)}`);
  if (value === '0') return 0;
  let total = 0;
  PART.lastIndex = 0;
  let at = 0;
  while (at < value.length) {
    PART.lastIndex = at;
    const m = PART.exec(value);
    if (m === null) throw new ConfigError(key, `must be a duration such as "2m", "1h30m" or "500ms", got ${JSON.stringify(value)}`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = PART.lastIndex;
  }
  return total;
}
