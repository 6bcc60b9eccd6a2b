// The runs a stream's own timers drive: TTL expiry (ADR-43, allow_msg_ttl)
// and message schedules (ADR-51, allow_msg_schedules). MessageExpiry and
// MessageScheduler say what is due; this decides what storing it means and
// goes through the engine's publish path, so what a run stores is deduped,
// limited and acknowledged to consumers like any captured message.

import { parseHeaders } from '../protocol/headers.ts';
import type { PubAck } from '../protocol/jetstream-wire.ts';
import type { TtlCollector } from './message-expiry.ts';
import type { ScheduleCollector } from './message-scheduler.ts';
import { deleteMarkerHeader, isDeleteMarker } from './message-ttl.ts';
import type { Stream } from './stream.ts';

/** What the runs need from the engine. */
export interface StreamTimersHost {
  /** Is `stream` still the one the engine serves under its name (not deleted or replaced)? */
  current(stream: Stream): boolean;
  /** Is the engine serving (start() done, stop() not called)? */
  running(): boolean;
  /** Store a message the server makes through the stream's publish path (throws JetStreamApiError). `trusted`: see Stream.ingest. */
  store(stream: Stream, subject: string, headerSize: number, message: Buffer, trusted?: boolean): PubAck;
  /** The store changed outside a publish: commit it with this turn. */
  touched(stream: Stream): void;
}

export class StreamTimers {
  constructor(private readonly host: StreamTimersHost) {}

  /** Arm the timers the stream's config asks for; idempotent, so also after an update. `recovered*`: found in the store at start. */
  arm(stream: Stream, recoveredTtls?: TtlCollector, recoveredSchedules?: ScheduleCollector): void {
    if (stream.config.allowMsgTtl) stream.enableExpiry(() => this.expireDue(stream), recoveredTtls);
    if (stream.config.allowMsgSchedules) stream.enableSchedules(() => this.runSchedules(stream), recoveredSchedules);
  }

  /** Stop the stream's timers (stream deleted, engine stopping). */
  stop(stream: Stream): void {
    stream.expiry?.stop();
    stream.scheduler?.stop();
  }

  /**
   * Remove the messages of `stream` whose TTL or max_age is up (ADR-43). With
   * subject_delete_marker_ttl, the last message of a subject is replaced by a
   * marker that rolls the subject up (NS filestore handleRemovalOrSdm).
   */
  private expireDue(stream: Stream): void {
    const expiry = stream.expiry;
    if (expiry === null || !this.host.running() || !this.host.current(stream)) return;
    const markerTtl = Math.floor(stream.config.subjectDeleteMarkerTtl / 1e9);
    let changed = false;
    for (const seq of expiry.takeDue()) {
      const m = stream.store.get(seq);
      if (m === null) continue;
      changed = true;
      const last = markerTtl > 0 && stream.store.subjectCounts(m.subject).get(m.subject) === 1;
      if (last && !isDeleteMarker(m.header === null ? null : parseHeaders(m.header))) {
        const header = deleteMarkerHeader(markerTtl);
        try {
          this.host.store(stream, m.subject, header.length, header);
          continue;
        } catch {
          // A marker the stream refuses (sealed, full under discard new): the message still goes.
        }
      }
      stream.store.remove(seq);
    }
    if (changed) this.host.touched(stream);
    expiry.schedule();
  }

  /** Store what the due schedules of `stream` produce (ADR-51), in the order of the schedules' sequences. */
  private runSchedules(stream: Stream): void {
    const scheduler = stream.scheduler;
    if (scheduler === null || !this.host.current(stream)) return;
    // Recovered schedules may come due while start() is still opening other streams: they run once it is done.
    if (!this.host.running()) return scheduler.schedule();
    for (const due of scheduler.takeDue()) {
      try {
        this.host.store(stream, due.target, due.header.length, Buffer.concat([due.header, due.data]), true);
      } catch (err) {
        // As nats-server's: a run the stream refuses is not retried; the schedule itself stays stored.
        process.emitWarning(`stream ${stream.name}: schedule ${due.scheduler} could not store its message on ${due.target}: ${err instanceof Error ? err.message : String(err)}`, 'StreamScheduleWarning');
      }
    }
    this.host.touched(stream);
    scheduler.schedule();
  }
}
