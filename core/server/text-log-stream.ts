// `--log_format text`: pino's JSON lines turned into lines a person reads in a
// terminal, shaped like nats-server's (`[pid] date time [LVL] message`), with
// the structured fields after the message as key=value. JSON stays the
// default: this costs a parse per line, which only a person reading can afford.

import type { DestinationStream } from 'pino';

/** pino's numeric levels, as nats-server abbreviates them. */
const LEVELS: Record<number, string> = { 10: 'TRC', 20: 'DBG', 30: 'INF', 40: 'WRN', 50: 'ERR', 60: 'FTL' };
const OMITTED = new Set(['level', 'time', 'pid', 'msg', 'hostname']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** One pino JSON line as text; a line that is not JSON is passed on as it is. */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'string' ? entry.time.replace('T', ' ').replace('Z', '') : new Date().toISOString();
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([k]) => !OMITTED.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `[${String(entry.pid ?? process.pid)}] ${time} [${level}] ${String(entry.msg ?? '')}${fields === '' ? '' : ` ${fields}`}\n`;
}

type Flushable = DestinationStream & { flush?(cb?: (error?: Error) => void): void; flushSync?(): void };

/** A pino destination that writes text lines to `out` (and flushes it when pino is flushed at exit). */
export function textLogStream(out: Flushable): Flushable {
  return {
    write(chunk: string) {
      // pino writes whole lines, one per call.
      out.write(textLine(chunk.trimEnd()));
    },
    flush: (cb) => (out.flush === undefined ? cb?.() : out.flush(cb)),
    flushSync: () => out.flushSync?.(),
  };
}
