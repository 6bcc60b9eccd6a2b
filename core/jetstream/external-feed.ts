// The wire side of a mirror or source whose origin is reached through an API
// prefix (`external: {api, deliver}`), as nats-server sets it up (stream.go
// trySetupSourceConsumer, processInboundSourceMsg): the destination asks
// `<api>.CONSUMER.CREATE.<origin>` for a push consumer that delivers to a
// subject under the `deliver` prefix, with flow control and a 1s idle
// heartbeat, starting after the last origin sequence the destination holds.
//
// Reliable by default (issue 23 item 3), as nats-server 2.14+ asks: a
// `direct`, `sourcing` consumer with a stable name, requiring API level 4. An
// origin of that level makes it, on a work-queue or interest stream, a durable
// with `ack_policy: flow_control` (consumer/ack-flow-control.ts): it counts a
// message as acknowledged only once the destination answers a flow-control
// request with the last sequence it has written, so it lets go of nothing the
// destination has not stored; the durable is kept across re-creates and goes
// on from its ack floor. An origin below that level (10185, or 10025 from one
// that knows no such field) gets the request without `sourcing` under a name
// of its own, as nats-server falls back.
//
// Every delivery, heartbeat and flow-control request is handled as it
// arrives: none waits behind another. A heartbeat naming a consumer sequence
// other than the last one seen, a delivery that skips one, or 10s without
// anything (sourceHealthCheckInterval) re-creates the consumer from the
// position, so a lost message is asked for again and a re-delivered one is
// recognised by its origin sequence and not stored twice.

import { randomBytes } from 'node:crypto';
import { parseHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JS_API_PREFIX } from '../protocol/jetstream-wire.ts';
import type { Router } from '../server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../server/subscription.ts';
import { parseDeliveryReply } from './consumer/ack-subjects.ts';
import { CONSUMER_STALLED, LAST_CONSUMER, LAST_STREAM } from './consumer/status-messages.ts';
import { JsError } from './errors.ts';
import { REQUIRED_API_LEVEL_HEADER } from './required-api-level.ts';
import type { StreamSourceConfig } from './stream-source.ts';
import { nowMs, type StoredMessage } from './store/stream-store.ts';

/** nats-server sourceHealthHB: the consumer's idle heartbeat. */
const HEARTBEAT_NS = 1_000_000_000;
/** nats-server sourceHealthCheckInterval: silent this long, the consumer is re-created (and the origin drops an unused one). */
const STALL_MS = 10_000;
/** How long a consumer create request may go unanswered before it is sent again (nats-server srcConsumerWaitTime is of this order). */
const REQUEST_TIMEOUT_MS = 5_000;
/** nats-server's source consumer: ack none with a day-long ack wait and one delivery (the origin may turn it into flow-control acks). */
const ACK_WAIT_NS = 22 * 3600 * 1_000_000_000;
const STATUS_100 = Buffer.from('NATS/1.0 100');
/** The consumer create asks for API level 4 (nats-server 2.14: durable sourcing, ack_policy flow_control). */
const REQUIRED_LEVEL_4 = Buffer.from(`NATS/1.0\r\n${REQUIRED_API_LEVEL_HEADER}: 4\r\n\r\n`);
/** An origin below API level 4 refuses the request (10185), or one that knows no `sourcing` field its JSON (10025). */
const OLDER_ORIGIN: ReadonlySet<number> = new Set([JsError.RequiredApiLevel.errCode, JsError.InvalidJson.errCode]);

/** What the feed needs from its link. */
export interface FeedLink {
  readonly config: StreamSourceConfig;
  /** The stable consumer name asked for (nats-server `JS_SRC_<hash>`): the same for this link across restarts. */
  readonly consumerName: string;
  /** Last origin sequence this link holds (or passed over): the next consumer starts after it. */
  readonly position: number;
  /** Store one delivered origin message; false when it could not be (the feed asks again from the position). */
  accept(m: StoredMessage, pending: number): boolean;
  /** Run `fn` once what was accepted so far is written (the destination's turn). */
  whenWritten(fn: () => void): void;
  /** The last set-up error, or null once a consumer is set up. */
  report(error: JetStreamApiError | null): void;
}

/** sourcing: nats-server 2.14's request; plain: the one for an older origin. */
type Request = 'sourcing' | 'plain';

export class ExternalFeed implements Subscriber {
  readonly id = nextInternalSubscriberId();
  readonly echo = false;
  /** The origin consumer delivering now (its name), null while none is set up. */
  private consumer: string | null = null;
  private deliverSub: Subscription | null = null;
  private replySub: Subscription | null = null;
  private requestedAt = 0;
  /** nats-server 2.14's request until an origin refuses it as too new; then the older one, from then on. */
  private request: Request = 'sourcing';
  /** Last consumer sequence handled (deliveries of the current consumer arrive 1, 2, 3, ...). */
  private dseq = 0;
  /** Anything heard from the current consumer (data, heartbeat, flow control). */
  private lastSeen = 0;
  private closed = false;
  /** restart() was called: re-create at the next tick, once the link's position is read back. */
  private stale = false;

  constructor(
    private readonly router: Router,
    private readonly link: FeedLink,
  ) {}

  /** When the current consumer was last heard from (ms since the epoch; 0: none yet). */
  get heardAt(): number {
    return this.consumer === null ? 0 : this.lastSeen;
  }

  /** Connected: a consumer is delivering and was heard from within the stall interval. */
  get connected(): boolean {
    return this.consumer !== null && nowMs() - this.lastSeen < STALL_MS;
  }

  /** The link's position moved back (a rolled-back write): the next tick asks again from there. */
  restart(): void {
    this.stale = true;
  }

  /** Called on the sourcing timer: set the consumer up, or re-create it when stalled, unanswered or told to restart. */
  tick(): void {
    if (this.closed) return;
    if (this.stale) {
      this.stale = false;
      this.create(this.request);
      return;
    }
    const now = nowMs();
    if (this.replySub !== null && now - this.requestedAt < REQUEST_TIMEOUT_MS) return;
    if (this.consumer !== null && now - this.lastSeen < STALL_MS) return;
    if (this.replySub !== null) this.link.report(JetStreamApiError.of(JsError.StreamGeneral, `no answer from ${this.api()}.CONSUMER.CREATE.${this.link.config.name}`));
    this.create(this.request);
  }

  /** The link is gone: stop listening and let the origin drop the consumer. */
  close(): void {
    this.closed = true;
    this.drop();
    this.endRequest();
  }

  // ---- Subscriber ----

  deliver(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    if (sub === this.replySub) this.created(message.subarray(headerSize > 0 ? headerSize : 0));
    else if (sub === this.deliverSub) this.delivered(subject, reply, headerSize, message);
  }

  subscriptionEnded(): void {}

  // ---- consumer set-up ----

  private api(): string {
    return this.link.config.external?.api || JS_API_PREFIX;
  }

  /** Ask the origin for a consumer starting after the position (stream.go trySetupSourceConsumer). */
  private create(request: Request): void {
    this.drop();
    this.endRequest();
    this.request = request;
    const c = this.link.config;
    const token = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
    const prefix = c.external?.deliver || '$JS';
    const deliverSubject = `${prefix}.S.${token}`.replaceAll('..', '.');
    const config: Record<string, unknown> = {
      name: request === 'sourcing' ? this.link.consumerName : `${this.link.consumerName}_${token.slice(0, 8)}`,
      deliver_subject: deliverSubject,
      ack_policy: 'none',
      ack_wait: ACK_WAIT_NS,
      max_deliver: 1,
      flow_control: true,
      idle_heartbeat: HEARTBEAT_NS,
      direct: true,
      ...(request === 'sourcing' ? { sourcing: true } : {}),
      inactive_threshold: STALL_MS * 1e6,
      ...this.startOptions(),
    };
    const filters = c.subjectTransforms.length > 0 ? c.subjectTransforms.map((t) => t.src || '>') : c.filterSubject !== '' ? [c.filterSubject] : [];
    if (filters.length === 1) config.filter_subject = filters[0];
    else if (filters.length > 1) config.filter_subjects = filters;
    // Listen before asking: an origin may deliver before its answer arrives (the answer and the
    // deliveries can travel different paths); the first delivery then names the consumer.
    this.dseq = 0;
    this.deliverSub = new Subscription(this, deliverSubject, null, `src-deliver:${c.name}`);
    this.router.subscribe(this.deliverSub);
    this.replySub = new Subscription(this, `_INBOX.${token}`, null, `src-reply:${c.name}`);
    this.router.subscribe(this.replySub);
    this.requestedAt = nowMs();
    const body = Buffer.from(JSON.stringify({ stream_name: c.name, config }));
    const create = `${this.api()}.CONSUMER.CREATE.${c.name}`;
    const header = request === 'sourcing' ? REQUIRED_LEVEL_4 : null;
    const message = header === null ? body : Buffer.concat([header, body]);
    // Nobody serves the prefix (the link to the origin is down): say so now; the next tick asks again.
    if (this.router.publish(create, this.replySub.subject, header?.length ?? -1, message, this) === 0) {
      this.link.report(JetStreamApiError.of(JsError.StreamGeneral, `no responders for ${create}`));
      this.endRequest();
    }
  }

  private startOptions(): Record<string, unknown> {
    const c = this.link.config;
    const after = this.link.position;
    if (after > 0) return { deliver_policy: 'by_start_sequence', opt_start_seq: after + 1 };
    if (c.optStartSeq > 0) return { deliver_policy: 'by_start_sequence', opt_start_seq: c.optStartSeq };
    if (c.optStartTime !== null) return { deliver_policy: 'by_start_time', opt_start_time: c.optStartTime };
    return { deliver_policy: 'all' };
  }

  private created(body: Buffer): void {
    this.endRequest();
    let answer: { name?: unknown; error?: { code: number; err_code: number; description: string } };
    try {
      answer = JSON.parse(body.toString('utf8')) as typeof answer;
    } catch (err) {
      this.link.report(JetStreamApiError.of(JsError.StreamGeneral, `bad consumer create answer from ${this.api()}`, { cause: err }));
      return;
    }
    if (answer.error !== undefined || typeof answer.name !== 'string') {
      // An origin below API level 4 (nats-server before 2.14) gets the older request (NS stream.go retries so).
      if (this.request === 'sourcing' && OLDER_ORIGIN.has(answer.error?.err_code ?? 0)) {
        this.create('plain');
        return;
      }
      const e = answer.error;
      this.link.report(e === undefined ? JetStreamApiError.of(JsError.StreamGeneral, 'consumer create answer without a name') : new JetStreamApiError({ code: e.code, errCode: e.err_code, description: e.description }));
      return;
    }
    if (this.consumer !== null && this.consumer !== answer.name) {
      this.create(this.request); // Deliveries came from another consumer than the one created.
      return;
    }
    if (this.consumer === null) this.lastSeen = nowMs();
    this.consumer = answer.name;
    this.link.report(null);
  }

  private endRequest(): void {
    if (this.replySub !== null) this.router.unsubscribe(this.replySub);
    this.replySub = null;
  }

  /**
   * Stop the current consumer: unsubscribe, and ask the origin to delete an
   * ephemeral one (a relay's wildcard interest would keep it alive). The
   * durable an origin made under the stable name (flow-control acks) stays:
   * the next request takes it over from its ack floor.
   */
  private drop(): void {
    if (this.deliverSub !== null) this.router.unsubscribe(this.deliverSub);
    this.deliverSub = null;
    if (this.consumer !== null && this.consumer !== this.link.consumerName) this.router.publish(`${this.api()}.CONSUMER.DELETE.${this.link.config.name}.${this.consumer}`, null, -1, Buffer.alloc(0), this);
    this.consumer = null;
  }

  // ---- deliveries ----

  private delivered(subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    this.lastSeen = nowMs();
    if (headerSize > 0 && message.length === headerSize && message.subarray(0, STATUS_100.length).equals(STATUS_100)) {
      this.control(reply, message);
      return;
    }
    const r = reply === null ? null : parseDeliveryReply(reply);
    // Waiting to ask again from a position moved back: what this consumer sends now would skip.
    if (r === null || r.deliveries > 1 || this.stale) return;
    // Before the create answer, the consumer's first delivery names it (nats-server adopts it the same way).
    if (this.consumer === null && this.replySub !== null && this.dseq === 0 && r.consumerSeq === 1) this.consumer = r.consumer;
    // Only the current consumer's deliveries count (a late one from a dropped consumer is ignored).
    if (r.consumer !== this.consumer) return;
    if (r.consumerSeq <= this.dseq) return;
    if (r.consumerSeq > this.dseq + 1) {
      this.create(this.request); // A delivery was lost on the way: ask again from the position.
      return;
    }
    this.dseq = r.consumerSeq;
    const header = headerSize > 0 ? Buffer.from(message.subarray(0, headerSize)) : null;
    const data = Buffer.from(message.subarray(headerSize > 0 ? headerSize : 0));
    if (!this.link.accept({ seq: r.streamSeq, subject, header, data, time: r.timeMs }, r.pending)) this.create(this.request);
  }

  /** `100 FlowControl Request` (with a reply) or `100 Idle Heartbeat` (NS stream.go processInboundSourceMsg). */
  private control(reply: string | null, header: Buffer): void {
    if (reply !== null) {
      this.answerFlowControl(reply);
      return;
    }
    if (this.consumer === null) return; // Not set up yet: nothing to compare with.
    const h = parseHeaders(header);
    const last = Number(h.get(LAST_CONSUMER) ?? 0);
    if (last > 0 && last !== this.dseq) {
      this.create(this.request); // The origin delivered more than arrived here.
      return;
    }
    const stalled = h.get(CONSUMER_STALLED);
    if (stalled !== undefined && stalled !== '') this.answerFlowControl(stalled);
  }

  /**
   * Answer with the last consumer and origin sequences handled, once they are
   * written here: under ack_policy flow_control the answer acknowledges them
   * at the origin (nats-server answers after storing too).
   */
  private answerFlowControl(to: string): void {
    const header = Buffer.from(`NATS/1.0\r\n${LAST_CONSUMER}: ${this.dseq}\r\n${LAST_STREAM}: ${Math.max(0, this.link.position)}\r\n\r\n`);
    const send = (): void => {
      if (!this.closed) this.router.publish(to, null, header.length, header, this);
    };
    this.link.whenWritten(send);
  }
}
