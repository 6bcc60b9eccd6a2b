// The time zone of a cron schedule (`Nats-Schedule-Time-Zone`, ADR-51 rev 3):
// the names Go's time.LoadLocation takes (an IANA name, `UTC`, `Local`, an
// abbreviation the tz database has), resolved with the ICU data Node.js ships
// instead of the host's tzdata. Fixed offsets such as `+02:00` are refused, as
// Go refuses them. Wall-clock times are handled as "naive" milliseconds: the
// wall clock read as if it were UTC, so calendar arithmetic ignores DST.

const MINUTE_MS = 60_000;

export class TimeZone {
  static readonly UTC = new TimeZone('UTC', null);
  private static readonly cache = new Map<string, TimeZone | null>();

  private constructor(readonly name: string, private readonly format: Intl.DateTimeFormat | null) {}

  /** The zone called `name`, or null when Go's LoadLocation would fail (empty, an offset, unknown). */
  static load(name: string): TimeZone | null {
    if (name === 'UTC') return TimeZone.UTC;
    let zone = TimeZone.cache.get(name);
    if (zone !== undefined) return zone;
    zone = null;
    const id = name === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : name;
    // Go reads <zoneinfo>/<name>: letters, digits and `/_+-` only, never a path out of the database.
    if (/^[A-Za-z][A-Za-z0-9/_+-]*$/.test(id) && !id.includes('..')) {
      try {
        const format = new Intl.DateTimeFormat('en-US', {
          timeZone: id,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
        zone = new TimeZone(name, format);
      } catch {
        zone = null;
      }
    }
    TimeZone.cache.set(name, zone);
    return zone;
  }

  /** The zone's offset from UTC at `instant` (ms), in ms. */
  offsetAt(instant: number): number {
    if (this.format === null) return 0;
    const whole = Math.floor(instant / 1000) * 1000;
    const p: Record<string, number> = {};
    for (const part of this.format.formatToParts(whole)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
  }

  /** The wall clock at `instant`, as naive ms. */
  toWall(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /** The instant a wall-clock time (naive ms) stands for; in a DST gap, the offset before the change decides. */
  toInstant(wall: number): number {
    const first = wall - this.offsetAt(wall);
    return wall - this.offsetAt(first);
  }

  /** Go's RFC3339Nano of `instant` in this zone: `Z` at offset zero, else `+hh:mm`. */
  formatRfc3339(instant: number): string {
    const offset = Math.round(this.offsetAt(instant) / MINUTE_MS);
    const wall = new Date(instant + offset * MINUTE_MS).toISOString().replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
    if (offset === 0) return wall;
    const abs = Math.abs(offset);
    const sign = offset < 0 ? '-' : '+';
    return `${wall.slice(0, -1)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  }
}
