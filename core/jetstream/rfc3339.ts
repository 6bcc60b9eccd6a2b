// Timestamps as nats-server writes them: Go's RFC3339Nano in UTC (fraction
// without trailing zeros) and Go's zero time for "never".

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** ms since the epoch (fractional) -> "2026-01-02T03:04:05.123456789Z"; 0 -> Go's zero time. */
export function formatTime(ms: number): string {
  if (ms <= 0) return ZERO_TIME;
  let sec = Math.floor(ms / 1000);
  let ns = Math.round((ms - sec * 1000) * 1e6);
  if (ns >= 1e9) {
    sec += 1;
    ns -= 1e9;
  }
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  if (ns === 0) return `${base}Z`;
  return `${base}.${String(ns).padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** Like formatTime, but any instant, the epoch and earlier included (a pause until 1970 is a time, not "never"). */
export function formatInstant(ms: number): string {
  return ms > 0 ? formatTime(ms) : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** Parse an RFC3339 timestamp (nanosecond fraction allowed) back to fractional ms. */
export function parseTime(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}
