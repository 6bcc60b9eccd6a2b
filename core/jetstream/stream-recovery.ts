// Reopening one stream found on disk at start. A file store replays its
// messages once; what has to be rebuilt from them is gathered during that one
// pass: the Nats-Msg-Id dedupe window, the TTL deadlines (ADR-43) and the
// schedules (ADR-51). A batch a kill -9 cut short is taken back (ADR-50) before
// anyone reads the stream.

import { rollBackPartialBatch } from './atomic-batch.ts';
import { TtlCollector } from './message-expiry.ts';
import { ScheduleCollector } from './message-scheduler.ts';
import { streamConfigFromWire } from './stream-config.ts';
import type { StoreReplay, StreamFiles } from './stream-files.ts';
import { MsgIdCollector, Stream } from './stream.ts';
import { nowMs } from './store/stream-store.ts';

/** A stream directory that could not be recovered at start. */
export class StreamRecoveryError extends Error {
  constructor(readonly stream: string, options: { cause: unknown }) {
    super(`stream ${stream} could not be recovered${options.cause instanceof Error ? `: ${options.cause.message}` : ''}`, options);
    this.name = 'StreamRecoveryError';
  }
}

/** A reopened stream, with the TTL deadlines and schedules its messages carried (for its timers). */
export interface RecoveredStream {
  stream: Stream;
  ttls?: TtlCollector;
  schedules?: ScheduleCollector;
}

type RecoverObserver = StoreReplay['onRecover'];

function both(a: RecoverObserver, b: RecoverObserver): RecoverObserver {
  return (seq, time, header) => {
    a(seq, time, header);
    b(seq, time, header);
  };
}

/**
 * Reopen stream `name`; null when its directory holds no meta.json (not a stream).
 * Throws StreamRecoveryError, so that one unreadable stream can be left out
 * (and untouched on disk) without keeping the others down.
 */
export function recoverStream(files: StreamFiles, name: string): RecoveredStream | null {
  try {
    const meta = files.readMeta(name);
    if (meta === null) return null;
    const config = streamConfigFromWire(meta.config);
    const cutoff = nowMs() - config.duplicateWindow / 1_000_000;
    const collector = new MsgIdCollector(cutoff);
    // TTL deadlines live in the messages' headers: a TTL stream replays every header, not only the dedupe window's.
    const ttls = config.allowMsgTtl ? new TtlCollector() : undefined;
    // Schedules too (ADR-51): the schedule messages and what they produced rebuild when each runs next.
    const schedules = config.allowMsgSchedules ? new ScheduleCollector() : undefined;
    let onRecover: RecoverObserver = collector.observe;
    if (ttls !== undefined) onRecover = both(onRecover, ttls.observe);
    if (schedules !== undefined) onRecover = both(onRecover, schedules.observe);
    const recoverHeadersSince = ttls === undefined && schedules === undefined ? cutoff : 0;
    const stream = new Stream(config, meta.created, files.open(config, { onRecover, recoverHeadersSince }));
    // ADR-50: a batch whose commit a kill -9 cut short is taken back before anyone reads the stream.
    const rolledBack = config.allowAtomic ? rollBackPartialBatch(stream.store) : 0;
    if (rolledBack > 0) collector.forgetFrom(rolledBack);
    stream.seedDedupe(collector);
    return { stream, ttls, schedules };
  } catch (err) {
    throw new StreamRecoveryError(name, { cause: err });
  }
}
