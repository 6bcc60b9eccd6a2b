// What the router delivers to (DESIGN seam 2). A NATS client, an MQTT session,
// an HTTP stream, the Kafka bridge or a JetStream internal all implement
// Subscriber; the router never knows which protocol is behind it.

export interface Subscriber {
  /** Connection id (cid) or an internal id; unique per server. */
  readonly id: number;
  /** False when this subscriber must not receive its own publishes. */
  readonly echo: boolean;
  /**
   * Queue one message. `message` may be a slice shared with other subscribers:
   * never mutate it. headerSize is -1 without headers, otherwise the byte length
   * of the header block at the start of `message`.
   */
  deliver(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void;
  /**
   * deliver() of the message source[start, end), for a subscriber that copies it out
   * anyway (a NATS client into its outbound batch): the router then makes no slice,
   * which costs as much as the rest of a small delivery. Optional; same rules.
   */
  deliverRange?(sub: Subscription, subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void;
  /** The router removed `sub` on its own (its auto-unsubscribe max was reached). */
  subscriptionEnded(sub: Subscription): void;
}

export class Subscription {
  /** Deliveries so far; with `max`, the router ends the subscription at max. */
  delivered = 0;
  /** 0 = unlimited; otherwise UNSUB <sid> <max> semantics. */
  max = 0;
  closed = false;
  /**
   * Its first token is a wildcard that does not reach reserved subjects
   * (`$...`, `_INBOX...`, see isReservedSubject): such a subject is neither
   * delivered to it nor counts it as a responder (no_responders still works).
   */
  hidesReserved = false;
  /**
   * Interest held on behalf of another server (a leafnode's LS+): a queue
   * group hands a message to such a member only when no local member can
   * take it, as nats-server prefers local queue subscribers.
   */
  remote = false;

  constructor(
    readonly owner: Subscriber,
    readonly subject: string,
    readonly queue: string | null,
    readonly sid: string,
  ) {}
}

let lastInternalId = 0;
/** Ids for in-process subscribers (brokers, JetStream); negative so they never collide with client cids. */
export function nextInternalSubscriberId(): number {
  return --lastInternalId;
}
