// The Broker port on the in-process router: no encoding, no sockets. Each
// subscription is an internal Subscriber; requests share one wildcard inbox
// subscription (as the official clients do) instead of one per request.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseHeaders, type MessageHeaders } from '../protocol/headers.ts';
import type { Router } from '../server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../server/subscription.ts';
import type {
  Broker,
  BrokerMessage,
  BrokerSubscription,
  MessageHandler,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './broker.ts';
import { BrokerClosedError, NoRespondersError, RequestTimeoutError } from './errors.ts';
import { guardHandler, reportHandlerError, type HandlerErrorListener } from './handler-guard.ts';
import { assertPublishSubject, assertSubscription } from './validate.ts';

/**
 * A routed message (header block + body) as the port's message. Headers and
 * body are cut out on first access: many subscribers (a stream's watchers, the
 * request inbox) never read the headers, some not even the body, and parsing
 * was most of a delivery's cost.
 */
class RoutedMessage implements BrokerMessage {
  private body: Buffer | undefined;
  private parsed: MessageHeaders | null | undefined;

  constructor(readonly subject: string, readonly reply: string | null, private readonly headerSize: number, private readonly message: Buffer) {}

  get data(): Buffer {
    if (this.body === undefined) this.body = this.headerSize < 0 ? this.message : this.message.subarray(this.headerSize);
    return this.body;
  }

  /** Throws HeaderParseError, on access, for a malformed header block. */
  get headers(): MessageHeaders | null {
    if (this.parsed === undefined) this.parsed = this.headerSize < 0 ? null : parseHeaders(this.message.subarray(0, this.headerSize));
    return this.parsed;
  }
}

/** Turn a routed message (header block + body) into the port's message. */
export function toBrokerMessage(subject: string, reply: string | null, headerSize: number, message: Buffer): BrokerMessage {
  return new RoutedMessage(subject, reply, headerSize, message);
}

/** Encode port-level headers + body into the router's single-buffer form: one buffer, no concat. */
export function encodeMessage(data: Uint8Array, options: PublishOptions | undefined): { headerSize: number; message: Buffer } {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!options?.headers) return { headerSize: -1, message: body };
  // encode(), not toString(): constant header blocks (MQTT's QoS headers) cache their bytes.
  const header = options.headers.encode();
  const message = Buffer.allocUnsafe(header.length + body.length);
  message.set(header, 0);
  message.set(body, header.length);
  return { headerSize: header.length, message };
}

class HandlerSubscriber implements Subscriber {
  readonly id = nextInternalSubscriberId();
  readonly echo = true;
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(private readonly handler: MessageHandler) {}

  deliver(_sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    this.handler(toBrokerMessage(subject, reply, headerSize, message));
  }

  subscriptionEnded(): void {
    this.resolveClosed();
  }
}

interface PendingRequest {
  resolve(message: BrokerMessage): void;
  reject(error: Error): void;
  subject: string;
  timeoutMs: number;
  /** performance.now() at which the request times out. */
  deadline: number;
}

export class EmbeddedBroker implements Broker {
  private readonly subscriptions = new Set<{ sub: Subscription; owner: HandlerSubscriber }>();
  private readonly inboxPrefix = `_INBOX.${randomBytes(11).toString('base64url')}.`;
  private readonly pending = new Map<string, PendingRequest>();
  private inbox: BrokerSubscription | null = null;
  private nextRequestId = 0;
  private isClosed = false;
  /**
   * One timer for all requests, armed for the earliest deadline and only while
   * a request is pending (so an idle broker keeps no process alive): a timer
   * per request cost an allocation, a timer-list insert and a clear each.
   */
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** The last subject that passed validation: a bridge sends whole batches to one subject string. */
  private validSubject = '';

  /**
   * `onHandlerError` hears about handlers that throw; by default the error is
   * written to stderr with the subject, so it is never silent.
   */
  constructor(
    private readonly router: Router,
    private readonly onHandlerError: HandlerErrorListener = reportHandlerError,
  ) {}

  async publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void> {
    this.assertOpen();
    this.assertSubject(subject);
    const { headerSize, message } = encodeMessage(data, options);
    this.router.publish(subject, options?.reply ?? null, headerSize, message, null);
  }

  async subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<BrokerSubscription> {
    return this.subscribeNow(subject, handler, options);
  }

  /** `claim`: own every subject under `subject` (which ends in `.>`) through the router's prefix claim. */
  private subscribeNow(subject: string, handler: MessageHandler, options: SubscribeOptions, claim = false): BrokerSubscription {
    this.assertOpen();
    assertSubscription(subject, options.queue);
    const queue = options.queue ?? null;
    const owner = new HandlerSubscriber(guardHandler(handler, this.onHandlerError));
    const sub = new Subscription(owner, subject, queue, String(owner.id));
    if (options.max !== undefined && options.max > 0) sub.max = options.max;
    const entry = { sub, owner };
    this.subscriptions.add(entry);
    if (claim) this.router.subscribeClaim(sub);
    else this.router.subscribe(sub);
    void owner.closed.then(() => this.subscriptions.delete(entry));
    return {
      subject,
      queue,
      closed: owner.closed,
      unsubscribe: () => {
        if (sub.closed) return;
        this.router.unsubscribe(sub);
        owner.subscriptionEnded();
      },
    };
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage> {
    // Not async: everything up to the routing is synchronous, and an executor that throws rejects.
    return new Promise<BrokerMessage>((resolve, reject) => {
      this.assertOpen();
      this.assertSubject(subject);
      this.inbox ??= this.subscribeInbox();
      const token = (this.nextRequestId++).toString(36);
      const deadline = performance.now() + options.timeoutMs;
      this.pending.set(token, { resolve, reject, subject, timeoutMs: options.timeoutMs, deadline });
      const { headerSize, message } = encodeMessage(data, options);
      const delivered = this.router.publish(subject, this.inboxPrefix + token, headerSize, message, null);
      if (delivered === 0) {
        this.settled(token);
        reject(new NoRespondersError(subject));
      } else if (this.pending.has(token)) {
        this.armTimer(deadline);
      }
    });
  }

  async flush(): Promise<void> {
    // Publishing is synchronous into the router: nothing is in flight.
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const { sub, owner } of [...this.subscriptions]) {
      this.router.unsubscribe(sub);
      owner.subscriptionEnded();
    }
    this.pending.clear();
    this.disarmTimer();
  }

  /**
   * Every reply subject is new, so a sublist match would always miss its cache
   * and walk the trie: the inbox claims its prefix instead. Replies are one
   * token under it; anything deeper finds no pending request and is ignored.
   */
  private subscribeInbox(): BrokerSubscription {
    return this.subscribeNow(`${this.inboxPrefix}>`, (message) => {
      const token = message.subject.slice(this.inboxPrefix.length);
      const request = this.pending.get(token);
      if (request === undefined) return; // a late or extra answer: the first one won
      this.settled(token);
      request.resolve(message);
    }, {}, true);
  }

  /** The request is answered (or failed): it no longer holds the timer. */
  private settled(token: string): void {
    this.pending.delete(token);
    if (this.pending.size === 0) this.disarmTimer();
  }

  private armTimer(deadline: number): void {
    if (deadline >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = deadline;
    // At least 1 ms: the timer may fire a little before performance.now() reaches the deadline.
    this.timer = setTimeout(() => this.expire(), Math.max(1, deadline - performance.now()));
  }

  private disarmTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** Fail every request past its deadline, then re-arm for the earliest one left. */
  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [token, request] of this.pending) {
      if (request.deadline <= now) {
        this.pending.delete(token);
        request.reject(new RequestTimeoutError(request.subject, request.timeoutMs));
      } else if (request.deadline < next) {
        next = request.deadline;
      }
    }
    if (next !== Infinity) this.armTimer(next);
  }

  private assertSubject(subject: string): void {
    if (subject === this.validSubject) return;
    assertPublishSubject(subject);
    this.validSubject = subject;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new BrokerClosedError();
  }
}
