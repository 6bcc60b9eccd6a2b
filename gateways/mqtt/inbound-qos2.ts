// A session's inbound QoS 2 exchanges (MQTT 5 §4.3.3, method B: the message is
// forwarded on PUBLISH, the packet id kept until PUBREL), exactly once across a
// kill -9 of the gateway:
//
// - A new PUBLISH gets a dedupe id (Nats-Msg-Id of its MQTT_msgs append). The
//   session record is saved with the packet id and that dedupe id BEFORE the
//   message is logged, so after a crash the client's resend is logged again
//   under the same id and JetStream's duplicate window drops the copy.
// - Once the message is logged and published, the dedupe id is dropped (a
//   resend is then only acknowledged); the record keeps the packet id.
// - PUBREL releases the id; PUBCOMP goes out only once a record without it is
//   saved, so a restored session never takes a client's next PUBLISH with a
//   reused packet id for a resend of the old one.

/** One unreleased packet id. */
interface Exchange {
  /** The dedupe id while the message may not be logged yet; null once it is (or was never to be logged). */
  msgId: string | null;
  /** The publish in progress in this process, if any: a resend meanwhile is acknowledged once it is done. */
  publishing: Promise<void> | null;
}

/** An unreleased packet id whose message may not be logged: resent under the same dedupe id. */
export interface UnloggedInbound {
  readonly id: number;
  readonly msgId: string;
}

/** What a PUBLISH with an id that is not released yet asks for. */
export type InboundResend =
  | { readonly kind: 'acknowledge' }
  | { readonly kind: 'wait'; readonly done: Promise<void> }
  | { readonly kind: 'log-again'; readonly msgId: string };

export class InboundQos2 {
  private readonly exchanges = new Map<number, Exchange>();

  get size(): number {
    return this.exchanges.size;
  }

  has(id: number): boolean {
    return this.exchanges.has(id);
  }

  /** A resend of an unreleased id: acknowledge it, wait for the publish in progress, or log it again (restored after a crash). */
  resend(id: number): InboundResend | null {
    const e = this.exchanges.get(id);
    if (e === undefined) return null;
    if (e.publishing !== null) return { kind: 'wait', done: e.publishing };
    return e.msgId === null ? { kind: 'acknowledge' } : { kind: 'log-again', msgId: e.msgId };
  }

  /** A new exchange whose message is being logged under `msgId` (null: nothing is forwarded, e.g. a denied 3.1.1 publish). */
  begin(id: number, msgId: string | null): void {
    this.exchanges.set(id, { msgId, publishing: null });
  }

  /** The exchange's publish in progress; once it succeeds the message is logged. */
  track(id: number, publishing: Promise<void>): void {
    const e = this.exchanges.get(id);
    if (e === undefined) return;
    e.publishing = publishing;
    publishing.then(
      () => {
        e.msgId = null;
        e.publishing = null;
      },
      () => {
        e.publishing = null;
      },
    );
  }

  /** PUBREL, or a publish that failed: the id is free again. False when it was not in use. */
  release(id: number): boolean {
    return this.exchanges.delete(id);
  }

  ids(): number[] {
    return [...this.exchanges.keys()];
  }

  unlogged(): UnloggedInbound[] {
    const out: UnloggedInbound[] = [];
    for (const [id, e] of this.exchanges) if (e.msgId !== null) out.push({ id, msgId: e.msgId });
    return out;
  }

  /** From a session record. */
  restore(ids: readonly number[], unlogged: readonly UnloggedInbound[] = []): void {
    for (const id of ids) this.exchanges.set(id, { msgId: null, publishing: null });
    for (const u of unlogged) this.exchanges.set(u.id, { msgId: u.msgId, publishing: null });
  }
}
