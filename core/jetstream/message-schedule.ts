// Message schedules (ADR-51, nats-server 2.12/2.14): the headers a schedule
// message carries and those of the messages it produces, when a pattern runs
// next (`@at <RFC3339>`, `@every <Go duration>`, 6-field cron and the
// predefined `@hourly` family, cron in `Nats-Schedule-Time-Zone`), the checks
// a publish passes (nats-server stream.go processJetStreamMsg, its error codes
// 10188-10192, 10203, 10212, 10223) and the message a schedule produces
// (nats-server scheduler.go getScheduledMessages).

import { MessageHeaders, parseHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { isValidPublishSubject, subjectsOverlap } from '../subject/subject.ts';
import { CronPatternError, CronSchedule } from './cron-schedule.ts';
import { JsError } from './errors.ts';
import { parseGoDuration, parseMessageTtl, TtlHeader } from './message-ttl.ts';
import { parseTime } from './rfc3339.ts';
import type { StoredMessage } from './store/stream-store.ts';
import { TimeZone } from './time-zone.ts';

export const ScheduleHeader = {
  Pattern: 'Nats-Schedule',
  TimeZone: 'Nats-Schedule-Time-Zone',
  Ttl: 'Nats-Schedule-TTL',
  Rollup: 'Nats-Schedule-Rollup',
  Target: 'Nats-Schedule-Target',
  Source: 'Nats-Schedule-Source',
  /** On a produced message: the subject of the schedule that made it. */
  Scheduler: 'Nats-Scheduler',
  /** On a produced message: when the schedule runs next, or `purge` for a one-off (`@at`). */
  Next: 'Nats-Schedule-Next',
} as const;

/** `Nats-Schedule-Next` of a one-off: the schedule message is purged with it. */
export const SCHEDULE_NEXT_PURGE = 'purge';
const ROLLUP = 'Nats-Rollup';
const ROLLUP_SUBJECT = 'sub';

export interface ScheduleRun {
  /** When it runs (ms since the epoch). */
  readonly at: number;
  /** `@every` and cron run again; `@at` once. */
  readonly repeats: boolean;
  /** The zone cron runs in (how Nats-Schedule-Next is written). */
  readonly zone: TimeZone;
}

/** Go's time.Parse(time.RFC3339, text) in ms, NaN when Go refuses it (a day or hour out of range too). */
function parseRfc3339(text: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) return Number.NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || day.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return Number.NaN;
  return parseTime(text);
}

/**
 * When `pattern` runs next after `ts` (ms: the time it was stored, or its last
 * run), or null when the pattern is invalid. A run that `ts` would put in the
 * past (a restart after a long stop) is moved after `now`: a repeating
 * schedule runs once, never once per missed run (NS parseMsgSchedule).
 */
export function nextRun(pattern: string, zone: TimeZone | null, ts: number, now: number): ScheduleRun | null {
  if (pattern.startsWith('@at ')) {
    // A time zone is for cron only.
    if (zone !== null) return null;
    const at = parseRfc3339(pattern.slice(4));
    return Number.isNaN(at) ? null : { at, repeats: false, zone: TimeZone.UTC };
  }
  if (pattern.startsWith('@every ')) {
    if (zone !== null) return null;
    const ns = parseGoDuration(pattern.slice(7));
    // ADR-51 rev 7: at least a second.
    if (ns === null || ns < 1e9) return null;
    const every = ns / 1e6;
    let at = Math.round(ts / 1000) * 1000 + every;
    if (at < now) at = Math.round(now / 1000) * 1000 + every;
    return { at, repeats: true, zone: TimeZone.UTC };
  }
  let cron: CronSchedule;
  try {
    cron = CronSchedule.parse(pattern);
  } catch (err) {
    if (err instanceof CronPatternError) return null;
    throw err;
  }
  const z = zone ?? TimeZone.UTC;
  let at = cron.next(ts, z);
  if (at !== null && at < now) at = cron.next(Math.round(now / 1000) * 1000, z);
  return at === null ? null : { at, repeats: true, zone: z };
}

/** The `Nats-Schedule-Time-Zone` zone: null without the header; 10223 when empty or unknown. */
export function scheduleZone(h: MessageHeaders): TimeZone | null {
  const name = h.get(ScheduleHeader.TimeZone);
  if (name === undefined) return null;
  const zone = name === '' ? null : TimeZone.load(name);
  if (zone === null) throw new JetStreamApiError(JsError.MessageSchedulesTimeZoneInvalid);
  return zone;
}

/** The schedule `h` defines (stored at `ts`), or null: no Nats-Schedule, or one that is invalid. */
export function scheduleOf(h: MessageHeaders, ts: number, now: number): ScheduleRun | null {
  const pattern = h.get(ScheduleHeader.Pattern);
  if (pattern === undefined || pattern === '') return null;
  try {
    return nextRun(pattern, scheduleZone(h), ts, now);
  } catch (err) {
    if (err instanceof JetStreamApiError) return null;
    throw err;
  }
}

/** What checkSchedulePublish reads of the stream (a Stream is one). */
export interface ScheduleStreamView {
  readonly config: { readonly subjects: readonly string[]; readonly allowMsgSchedules: boolean; readonly allowMsgTtl: boolean };
  readonly store: { last(subject: string): StoredMessage | null };
}

const inStream = (stream: ScheduleStreamView, subject: string): boolean => stream.config.subjects.some((s) => subjectsOverlap(s, subject));

/**
 * The schedule checks of a client's publish on `subject`, in nats-server's
 * order. Returns true when the message is a schedule without its own
 * `Nats-Rollup`: it is stored with `Nats-Rollup: sub` added (ADR-51: one
 * schedule per subject, a newer one replaces it).
 */
export function checkSchedulePublish(h: MessageHeaders, subject: string, stream: ScheduleStreamView, now: number): boolean {
  const needsRollup = checkSchedule(h, subject, stream, now);
  checkScheduler(h, subject, stream);
  return needsRollup;
}

/** Without allow_msg_schedules every schedule header, even a malformed one, gets 10188 (NS). */
function disabled(): JetStreamApiError {
  return new JetStreamApiError(JsError.MessageSchedulesDisabled);
}

function checkSchedule(h: MessageHeaders, subject: string, stream: ScheduleStreamView, now: number): boolean {
  let zone: TimeZone | null;
  try {
    zone = scheduleZone(h);
  } catch (err) {
    throw stream.config.allowMsgSchedules ? err : disabled();
  }
  const pattern = h.get(ScheduleHeader.Pattern);
  if (pattern === undefined || pattern === '') return false;
  if (!stream.config.allowMsgSchedules) throw disabled();
  if (nextRun(pattern, zone, now, now) === null) throw new JetStreamApiError(JsError.MessageSchedulesPatternInvalid);
  const ttl = h.get(ScheduleHeader.Ttl) ?? '';
  if (ttl !== '') {
    try {
      parseMessageTtl(ttl);
    } catch {
      throw new JetStreamApiError(JsError.MessageSchedulesTTLInvalid);
    }
  }
  const rollup = h.get(ScheduleHeader.Rollup) ?? '';
  if (rollup !== '' && rollup !== ROLLUP_SUBJECT) throw new JetStreamApiError(JsError.MessageSchedulesRollupInvalid);
  if (ttl !== '' && !stream.config.allowMsgTtl) throw new JetStreamApiError(JsError.MessageTTLDisabled);
  const target = h.get(ScheduleHeader.Target) ?? '';
  if (target === '' || !isValidPublishSubject(target) || target === subject) throw new JetStreamApiError(JsError.MessageSchedulesTargetInvalid);
  const source = h.get(ScheduleHeader.Source) ?? '';
  if (source !== '' && (source === target || source === subject || !isValidPublishSubject(source))) {
    throw new JetStreamApiError(JsError.MessageSchedulesSourceInvalid);
  }
  if (!inStream(stream, target)) throw new JetStreamApiError(JsError.MessageSchedulesTargetInvalid);
  if (source !== '' && !inStream(stream, source)) throw new JetStreamApiError(JsError.MessageSchedulesSourceInvalid);
  const own = h.get(ROLLUP);
  if (own === undefined || own === '') return true;
  if (own !== ROLLUP_SUBJECT) throw new JetStreamApiError(JsError.MessageSchedulesRollupInvalid);
  return false;
}

/**
 * ADR-51 "Ending schedules early": a client may send `Nats-Schedule-Next:
 * purge` with `Nats-Scheduler: <schedule subject>` (another subject than its
 * own) to store its message and end that schedule at once; nothing else.
 */
function checkScheduler(h: MessageHeaders, subject: string, stream: ScheduleStreamView): void {
  const next = h.get(ScheduleHeader.Next);
  const scheduler = h.get(ScheduleHeader.Scheduler);
  if (next === undefined || next === '') {
    if (scheduler !== undefined && scheduler !== '') throw new JetStreamApiError(JsError.MessageSchedulesSchedulerInvalid);
    return;
  }
  if (next !== SCHEDULE_NEXT_PURGE) throw new JetStreamApiError(JsError.MessageSchedulesSchedulerInvalid);
  if (scheduler === undefined || scheduler === '' || scheduler === subject || !isValidPublishSubject(scheduler)) {
    throw new JetStreamApiError(JsError.MessageSchedulesSchedulerInvalid);
  }
  if (!stream.config.allowMsgSchedules) throw disabled();
  // Nothing on that subject yet is allowed (NS: backward compatible); a message that is not a schedule is not.
  const last = stream.store.last(scheduler);
  if (last !== null && !isScheduleMessage(last)) throw new JetStreamApiError(JsError.MessageSchedulesSchedulerInvalid);
}

/** A stored message's headers (the store only holds header blocks that parsed on publish). */
function headersOf(m: StoredMessage): MessageHeaders {
  return m.header === null ? new MessageHeaders() : parseHeaders(m.header);
}

function isScheduleMessage(m: StoredMessage): boolean {
  const p = headersOf(m).get(ScheduleHeader.Pattern);
  return p !== undefined && p !== '';
}

/** One message a schedule produces, and when that schedule runs again (null: never, it was a one-off). */
export interface ProducedMessage {
  readonly target: string;
  readonly header: Buffer;
  readonly data: Buffer;
  readonly nextAt: number | null;
}

/** Header keys a produced message does not carry over (NS removeHeaderIfPrefixPresent and friends, case as sent). */
function dropped(key: string): boolean {
  return key.startsWith('Nats-Schedule') || key.startsWith('Nats-Expected-') || key === 'Nats-Msg-Id' || key === TtlHeader.Ttl || key === ROLLUP;
}

/**
 * The message schedule `m` produces for its run due at `due` (ms), or null
 * when `m` no longer holds a valid schedule (it is then forgotten). With
 * `Nats-Schedule-Source` the body and headers are the last message on that
 * subject (`lastOf`), else the schedule's own.
 */
export function produce(m: StoredMessage, due: number, now: number, lastOf: (subject: string) => StoredMessage | null): ProducedMessage | null {
  const h = headersOf(m);
  const pattern = h.get(ScheduleHeader.Pattern);
  if (pattern === undefined || pattern === '') return null;
  let run: ScheduleRun | null;
  try {
    run = nextRun(pattern, scheduleZone(h), due, now);
  } catch {
    return null;
  }
  if (run === null) return null;
  const ttl = h.get(ScheduleHeader.Ttl) ?? '';
  try {
    if (ttl !== '') parseMessageTtl(ttl);
  } catch {
    return null;
  }
  const target = h.get(ScheduleHeader.Target) ?? '';
  if (target === '') return null;
  const rollup = h.get(ScheduleHeader.Rollup) ?? '';
  const sourceSubject = h.get(ScheduleHeader.Source) ?? '';
  // ADR-51 rev 5: a source with no message yet publishes the schedule's own body and headers.
  const body = (sourceSubject !== '' ? lastOf(sourceSubject) : null) ?? m;
  const out = new MessageHeaders();
  for (const [key, value] of body === m ? h : headersOf(body)) if (!dropped(key)) out.append(key, value);
  out.append(ScheduleHeader.Scheduler, m.subject);
  out.append(ScheduleHeader.Next, run.repeats ? run.zone.formatRfc3339(run.at) : SCHEDULE_NEXT_PURGE);
  if (ttl !== '') out.append(TtlHeader.Ttl, ttl);
  if (rollup !== '') out.append(ROLLUP, rollup);
  return { target, header: out.encode(), data: Buffer.from(body.data), nextAt: run.repeats ? run.at : null };
}

/** `Nats-Schedule-Next` of a produced message as a time (ms), or NaN (`purge`, or none). */
export function nextOfProduced(h: MessageHeaders): number {
  const next = h.get(ScheduleHeader.Next);
  return next === undefined || next === SCHEDULE_NEXT_PURGE ? Number.NaN : parseTime(next);
}
