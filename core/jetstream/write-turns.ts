// The engine's answers wait for the writes they report on. Everything stored
// in one event-loop turn is committed at the end of that turn, one commit per
// touched store (on the thread pool, while the loop parses the next
// publishes); only when all of them are done do that turn's PubAcks and API
// answers go out, turns in order, and do consumers hear of its messages. So an
// acknowledged message has always reached the OS (or the disk, with
// sync: always) before its PubAck leaves.

import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { errorPubAck } from './ack-encoder.ts';
import { JsError } from './errors.ts';
import type { Stream } from './stream.ts';
import { StoreIoError, type StreamStore } from './store/stream-store.ts';

/** An answer (PubAck, API reply) held until its turn's writes are done. */
export interface Outgoing {
  subject: string;
  header: Buffer | null;
  payload: Buffer;
  /** When set: replace the payload with a store error if this store fails to commit. */
  store: StreamStore | null;
  stream: string;
}

/** A message stored in this turn: consumers hear of it once it is written. */
export interface Appended {
  stream: Stream;
  seq: number;
  subject: string;
  /** What it counts for in the stream's ingest backlog. */
  bytes: number;
}

interface AfterWrite {
  store: StreamStore;
  fn: () => void;
}

/** One turn's answers and stored messages, held until the writes of the stores it touched are done. */
interface Turn {
  out: Outgoing[];
  appended: Appended[];
  /** Commits not done yet. */
  waiting: number;
  failed: Map<StreamStore, Error> | null;
  /** Run once the named store's writes of this turn are done (a mirror or source releasing origin messages). */
  after: AfterWrite[];
}

/** What a finished turn hands back to the engine. */
export interface WriteTurnsHost {
  /** A message of a finished turn; `written` false when its store's commit failed (it was rolled back: gone). */
  settled(appended: Appended, written: boolean): void;
  /** Send one answer (headerSize -1: none). */
  publish(subject: string, headerSize: number, message: Buffer): void;
}

export class WriteTurns {
  private outbox: Outgoing[] = [];
  /** Messages stored in the current turn, released to consumers with its answers. */
  private appended: Appended[] = [];
  private afterWrite: AfterWrite[] = [];
  private readonly dirty = new Set<StreamStore>();
  /** Turns whose answers wait for their writes, oldest first. */
  private readonly turns: Turn[] = [];
  private scheduled = false;

  constructor(private readonly host: WriteTurnsHost) {}

  /** Send `out` with this turn's answers. */
  queue(out: Outgoing): void {
    this.outbox.push(out);
    this.schedule();
  }

  /** `store` changed in this turn: commit it at the end of the turn. */
  markDirty(store: StreamStore): void {
    this.dirty.add(store);
    this.schedule();
  }

  /** A message stored in this turn (its store already marked dirty). */
  stored(appended: Appended): void {
    this.appended.push(appended);
  }

  /** Run `fn` once this turn's writes to `store` are done; never when they fail. */
  whenWritten(store: StreamStore, fn: () => void): void {
    this.afterWrite.push({ store, fn });
    this.markDirty(store);
  }

  /** A deleted stream's store has nothing more to commit. */
  forget(store: StreamStore): void {
    this.dirty.delete(store);
  }

  /** End of turn: commit touched stores; this turn's acks and answers go out once that is done. */
  flush(): void {
    this.scheduled = false;
    // One extra count until every store has been asked: a store may call back at once.
    const turn: Turn = { out: this.outbox, appended: this.appended, waiting: 1, failed: null, after: this.afterWrite };
    this.outbox = [];
    this.appended = [];
    this.afterWrite = [];
    this.turns.push(turn);
    const settled = (store: StreamStore | null, err: Error | null): void => {
      if (err !== null && store !== null) {
        (turn.failed ??= new Map()).set(store, err);
        // The PubAck error names no path; the server's log gets it, with the OS's own message.
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
        process.emitWarning(`${err.message}${err instanceof StoreIoError ? ` at ${err.path}` : ''}${cause}`, 'StreamStoreWarning');
      }
      if (--turn.waiting === 0) this.sendTurns();
    };
    for (const store of this.dirty) {
      turn.waiting++;
      store.commit((err) => settled(store, err));
    }
    this.dirty.clear();
    settled(null, null);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Publish the answers of finished turns, oldest first: a turn never overtakes an earlier one. */
  private sendTurns(): void {
    while (this.turns.length > 0 && this.turns[0].waiting === 0) {
      const { out, appended, failed, after } = this.turns.shift() as Turn;
      // Written: now consumers may deliver them (a failed write was rolled back: they are gone).
      for (const a of appended) this.host.settled(a, failed?.has(a.stream.store) !== true);
      // A failed write was rolled back: what waited for it must not run, so a source never lets the
      // origin release messages whose copies are gone. Its link went back to what the destination
      // holds (StreamSourcing.rolledBack) and copies them again; the origin keeps them meanwhile.
      for (const w of after) if (failed?.has(w.store) !== true) w.fn();
      for (const m of out) {
        let payload = m.payload;
        const err = m.store !== null && failed !== null ? failed.get(m.store) : undefined;
        if (err !== undefined) {
          const error = JetStreamApiError.of(JsError.StreamStoreFailed, err.message, { cause: err });
          payload = errorPubAck(m.stream, error);
        }
        if (m.header === null) this.host.publish(m.subject, -1, payload);
        else this.host.publish(m.subject, m.header.length, Buffer.concat([m.header, payload]));
      }
    }
  }
}
