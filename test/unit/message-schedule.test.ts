// The pure parts of message schedules (ADR-51): cron patterns and their next
// run, time zones (Nats-Schedule-Time-Zone), and when `@at`, `@every` and cron
// run next, including a restart after missed runs (run once, never once per
// missed run, as nats-server's parseMsgSchedule). The expected times follow
// ADR-51's tables and crontab(5); the end-to-end behaviour, against
// nats-server too, is in test/interop/jetstream-message-schedules.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronPatternError, CronSchedule } from '../../core/jetstream/cron-schedule.ts';
import { nextRun } from '../../core/jetstream/message-schedule.ts';
import { TimeZone } from '../../core/jetstream/time-zone.ts';

const utc = (text: string): number => Date.parse(text);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));
// Monday 7 December 2026, 22:30:15.5 UTC.
const NOW = utc('2026-12-07T22:30:15.500Z');

describe('message schedule', () => {
  it('cron - predefined schedules and 6-field patterns run at crontab(5) times, in UTC', () => {
    const cases: Array<[string, string | null]> = [
      ['@hourly', '2026-12-07T23:00:00Z'],
      ['@daily', '2026-12-08T00:00:00Z'],
      ['@midnight', '2026-12-08T00:00:00Z'],
      ['@weekly', '2026-12-13T00:00:00Z'],
      ['@monthly', '2027-01-01T00:00:00Z'],
      ['@yearly', '2027-01-01T00:00:00Z'],
      ['@annually', '2027-01-01T00:00:00Z'],
      ['* * * * * *', '2026-12-07T22:30:16Z'],
      ['*/10 * * * * *', '2026-12-07T22:30:20Z'],
      ['5/15 * * * * *', '2026-12-07T22:30:20Z'],
      ['0-4,50-59 * * * * ?', '2026-12-07T22:30:50Z'],
      ['0 0 9 * * mon-fri', '2026-12-08T09:00:00Z'],
      ['0 0 9 * * SAT', '2026-12-12T09:00:00Z'],
      ['0 0 0 1 feb-mar *', '2027-02-01T00:00:00Z'],
      // Both day fields restricted: either matches (the 15th, or a Friday first).
      ['0 30 4 1,15 * 5', '2026-12-11T04:30:00Z'],
      ['0 0 0 1 * 0', '2026-12-13T00:00:00Z'],
      // A day field written `*/1` counts as a star: then both must match (the 1st, any weekday).
      ['0 0 0 1 * */1', '2027-01-01T00:00:00Z'],
      ['0 0 0 1 * */2', '2026-12-08T00:00:00Z'],
      // Never within five years.
      ['0 0 0 30 2 *', null],
    ];
    for (const [pattern, expected] of cases) assert.equal(iso(CronSchedule.parse(pattern).next(NOW)), expected, pattern);
  });

  it('cron - malformed patterns are refused with nats-server\'s reasons', () => {
    const cases: Array<[string, RegExp]> = [
      ['* * * * *', /requires 6 fields, got 5/],
      ['60 * * * * *', /end of range \(60\) above maximum \(59\)/],
      ['* * * 0 * *', /beginning of range \(0\) below minimum \(1\)/],
      ['* * * * * 7', /above maximum \(6\)/],
      ['5-2 * * * * *', /beginning of range \(5\) beyond end of range \(2\)/],
      ['*/0 * * * * *', /step of range should be a positive number/],
      ['1-2-3 * * * * *', /too many hyphens/],
      ['1/2/3 * * * * *', /too many slashes/],
      ['x * * * * *', /failed to parse int from x/],
      ['-1 * * * * *', /failed to parse int/],
    ];
    for (const [pattern, reason] of cases) assert.throws(() => CronSchedule.parse(pattern), (e: unknown) => e instanceof CronPatternError && reason.test(e.message), pattern);
  });

  it('time zone - IANA names, UTC, Local and abbreviations load; offsets and unknown names do not; wall time follows DST', () => {
    for (const name of ['America/New_York', 'Europe/Amsterdam', 'Asia/Tokyo', 'UTC', 'Local', 'EST', 'CET']) assert.notEqual(TimeZone.load(name), null, name);
    for (const name of ['', '+02:00', 'Nope/Zone', '../etc/passwd', 'UTC+1']) assert.equal(TimeZone.load(name), null, name);
    const ny = TimeZone.load('America/New_York') as TimeZone;
    assert.equal(ny.formatRfc3339(utc('2026-01-15T12:00:00Z')), '2026-01-15T07:00:00-05:00');
    assert.equal(ny.formatRfc3339(utc('2026-07-15T12:00:00.25Z')), '2026-07-15T08:00:00.25-04:00');
    assert.equal(TimeZone.UTC.formatRfc3339(utc('2026-07-15T12:00:00Z')), '2026-07-15T12:00:00Z');
    // 9:00 on the wall in New York is 14:00 UTC in winter, 13:00 in summer.
    const nine = CronSchedule.parse('0 0 9 * * *');
    assert.equal(iso(nine.next(NOW, ny)), '2026-12-08T14:00:00Z');
    assert.equal(iso(nine.next(utc('2026-07-01T00:00:00Z'), ny)), '2026-07-01T13:00:00Z');
    // Fall back (1 November 2026, 01:30 happens twice): it runs once, then the next day.
    const early = CronSchedule.parse('0 30 1 * * *');
    const first = early.next(utc('2026-11-01T04:00:00Z'), ny) as number;
    assert.equal(iso(first), '2026-11-01T05:30:00Z');
    assert.equal(iso(early.next(first, ny)), '2026-11-02T06:30:00Z');
  });

  it('next run - @at once, @every from the last run, cron; missed runs after a restart run once, after now', () => {
    assert.deepEqual(nextRun('@at 2009-11-10T23:00:00Z', null, NOW, NOW), { at: utc('2009-11-10T23:00:00Z'), repeats: false, zone: TimeZone.UTC });
    assert.equal(nextRun('@at 2026-12-08T01:00:00+02:00', null, NOW, NOW)?.at, utc('2026-12-07T23:00:00Z'));
    for (const bad of ['@at 2026-02-30T00:00:00Z', '@at 2026-12-08T24:00:00Z', '@at 2026-12-08', '@every 999ms', '@every -1s', '@every', 'bogus']) {
      assert.equal(nextRun(bad, null, NOW, NOW), null, bad);
    }
    // A time zone is for cron only.
    const amsterdam = TimeZone.load('Europe/Amsterdam');
    assert.equal(nextRun('@every 1s', amsterdam, NOW, NOW), null);
    assert.equal(nextRun('@at 2030-01-01T00:00:00Z', amsterdam, NOW, NOW), null);
    // @every counts from the stored time, on a whole second.
    assert.deepEqual(nextRun('@every 1m30s', null, NOW, NOW), { at: utc('2026-12-07T22:31:46Z'), repeats: true, zone: TimeZone.UTC });
    // Stored an hour ago and never run since: once, one interval after now.
    assert.equal(iso(nextRun('@every 5m', null, NOW - 3_600_000, NOW)?.at ?? null), '2026-12-07T22:35:16Z');
    assert.equal(iso(nextRun('@hourly', null, NOW - 5 * 3_600_000, NOW)?.at ?? null), '2026-12-07T23:00:00Z');
    assert.equal(nextRun('0 0 9 * * *', amsterdam, NOW, NOW)?.zone, amsterdam);
  });
});
