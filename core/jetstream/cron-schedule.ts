// The 6-field cron schedules of ADR-51 (seconds minutes hours day-of-month
// month day-of-week): `*` or `?`, numbers, ranges `a-b`, steps `/n` (`5/15`
// runs from 5 to the end), lists `a,b`, three-letter month and day names in
// any case, Sunday as 0. As in crontab(5), when both day fields are restricted
// a day matching either one runs; a schedule with no run within five years is
// invalid. The rules (not the code) are nats-server's cron.go.

import { TimeZone } from './time-zone.ts';

/** A cron pattern nats-server's parser refuses, with its reason. */
export class CronPatternError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`cron pattern "${pattern}": ${reason}`);
    this.name = 'CronPatternError';
  }
}

interface FieldRule {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTH_NAMES = ['', 'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const RULES: readonly FieldRule[] = [
  { min: 0, max: 59 },
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DAY_NAMES },
];

/** ADR-51's predefined schedules, as the 6-field patterns they stand for. */
export const PREDEFINED_SCHEDULES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

const YEARS_AHEAD = 5;

/** One field: which values run, and whether it was written unrestricted (a star or `?` without a step over 1). */
interface Field {
  readonly allowed: boolean[];
  readonly any: boolean;
}

export class CronSchedule {
  private constructor(private readonly fields: readonly Field[]) {}

  /** Parse a 6-field pattern or a predefined name; throws CronPatternError. */
  static parse(text: string): CronSchedule {
    const pattern = PREDEFINED_SCHEDULES[text] ?? text;
    const parts = pattern.split(/\s+/).filter((p) => p !== '');
    if (parts.length !== 6) throw new CronPatternError(text, `pattern requires 6 fields, got ${parts.length}`);
    return new CronSchedule(parts.map((p, i) => parseField(text, p, RULES[i])));
  }

  /** The first run strictly after `after` (ms, an instant), in `zone`; null when none within five years. */
  next(after: number, zone: TimeZone = TimeZone.UTC): number | null {
    const [sec, min, hour, dom, month, dow] = this.fields;
    // Wall-clock arithmetic in naive ms (time-zone.ts); each miss jumps to the start of the next unit.
    let t = Math.floor(zone.toWall(after) / 1000) * 1000 + 1000;
    const lastYear = new Date(t).getUTCFullYear() + YEARS_AHEAD;
    for (;;) {
      const d = new Date(t);
      const [y, mo, day, h, mi, s] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
      if (y > lastYear) return null;
      if (!month.allowed[mo + 1]) t = Date.UTC(y, mo + 1, 1);
      else if (!dayMatches(dom, dow, day, d.getUTCDay())) t = Date.UTC(y, mo, day + 1);
      else if (!hour.allowed[h]) t = Date.UTC(y, mo, day, h + 1);
      else if (!min.allowed[mi]) t = Date.UTC(y, mo, day, h, mi + 1);
      else if (!sec.allowed[s]) t = Date.UTC(y, mo, day, h, mi, s + 1);
      else {
        const instant = zone.toInstant(t);
        // A wall time that DST brings back a second time would run again in the past: it runs once.
        if (instant > after) return instant;
        t += 1000;
      }
    }
  }
}

/** crontab(5): both day fields restricted, either may match; otherwise both must. */
function dayMatches(dom: Field, dow: Field, day: number, weekday: number): boolean {
  const a = dom.allowed[day] === true;
  const b = dow.allowed[weekday] === true;
  return dom.any || dow.any ? a && b : a || b;
}

function parseField(pattern: string, text: string, rule: FieldRule): Field {
  const allowed: boolean[] = [];
  let any = false;
  for (const item of text.split(',')) {
    if (item === '') continue;
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new CronPatternError(pattern, `too many slashes: ${item}`);
    const bounds = range.split('-');
    let start: number;
    let end: number;
    const star = range === '*' || range === '?';
    if (star) {
      [start, end] = [rule.min, rule.max];
    } else {
      if (bounds.length > 2) throw new CronPatternError(pattern, `too many hyphens: ${item}`);
      start = valueOf(pattern, bounds[0], rule);
      end = bounds.length === 2 ? valueOf(pattern, bounds[1], rule) : start;
    }
    let step = 1;
    if (stepText !== undefined) {
      step = valueOf(pattern, stepText, { min: 0, max: Number.MAX_SAFE_INTEGER });
      // `5/15`: from 5 to the end of the field.
      if (!star && bounds.length === 1) end = rule.max;
    }
    if (start < rule.min) throw new CronPatternError(pattern, `beginning of range (${start}) below minimum (${rule.min}): ${item}`);
    if (end > rule.max) throw new CronPatternError(pattern, `end of range (${end}) above maximum (${rule.max}): ${item}`);
    if (start > end) throw new CronPatternError(pattern, `beginning of range (${start}) beyond end of range (${end}): ${item}`);
    if (step === 0) throw new CronPatternError(pattern, `step of range should be a positive number: ${item}`);
    if (star && step === 1) any = true;
    for (let v = start; v <= end; v += step) allowed[v] = true;
  }
  return { allowed, any };
}

function valueOf(pattern: string, text: string, rule: FieldRule): number {
  const named = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named > 0 || (named === 0 && rule.names === DAY_NAMES)) return named;
  if (!/^[+-]?\d+$/.test(text)) throw new CronPatternError(pattern, `failed to parse int from ${text}`);
  const n = Number(text);
  if (n < 0) throw new CronPatternError(pattern, `negative number (${n}) not allowed: ${text}`);
  return n;
}
