// The Broker port on the in-process router: no encoding, no sockets. Each
// subscription is an internal Subscriber; requests share one wildcard inbox
// subscription (as the official clients do) instead of one per request.

import { randomBytes } from 'node:crypto';
import { parseHeaders, type MessageHeaders } from '../protocol/headers.ts';
import { startsWithWildcardToken } from '../subject/subject.ts';
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
import { BrokerClosedError, NoRespondersError } from './errors.ts';
import { reportHandlerError, type HandlerErrorListener } from './handler-guard.ts';
import { PendingRequests } from './pending-requests.ts';
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

/** What every subscription of one broker shares (one object, not three fields each). */
interface SubscriptionHost {
  readonly router: Router;
  readonly onHandlerError: HandlerErrorListener;
  /** Live subscriptions, ended at close(). */
  readonly live: Set<HandlerSubscription>;
}

/**
 * One subscription of the port: the router's Subscriber and the caller's
 * handle in one object, without closures, and with its `closed` promise made
 * only when asked for. An MQTT gateway holds one or two per connected client,
 * so each object here is memory per connection (issue 20: heap snapshots).
 */
class HandlerSubscription implements Subscriber, BrokerSubscription {
  readonly id = nextInternalSubscriberId();
  readonly echo = true;
  readonly sub: Subscription;
  private closedPromise: Promise<void> | null = null;
  private resolveClosed: (() => void) | null = null;

  constructor(private readonly host: SubscriptionHost, readonly subject: string, readonly queue: string | null, private readonly handler: MessageHandler) {
    this.sub = new Subscription(this, subject, queue, String(this.id));
  }

  /** A handler that throws is reported, and routing goes on (handler-guard.ts). */
  deliver(_sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    try {
      this.handler(toBrokerMessage(subject, reply, headerSize, message));
    } catch (error) {
      this.host.onHandlerError(error, subject);
    }
  }

  /** Ended by the router (max reached), unsubscribe() or close(). */
  subscriptionEnded(): void {
    this.host.live.delete(this);
    this.resolveClosed?.();
    this.resolveClosed = null;
    this.closedPromise ??= Promise.resolve();
  }

  get closed(): Promise<void> {
    this.closedPromise ??= new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    return this.closedPromise;
  }

  unsubscribe(): void {
    if (this.sub.closed) return;
    this.host.router.unsubscribe(this.sub);
    this.subscriptionEnded();
  }
}

export class EmbeddedBroker implements Broker {
  private readonly subscriptions = new Set<HandlerSubscription>();
  private readonly host: SubscriptionHost;
  private readonly inboxPrefix = `_INBOX.${randomBytes(11).toString('base64url')}.`;
  private readonly requests = new PendingRequests();
  private inbox: BrokerSubscription | null = null;
  private isClosed = false;
  /** The last subject that passed validation: a bridge sends whole batches to one subject string. */
  private validSubject = '';

  /**
   * `onHandlerError` hears about handlers that throw; by default the error is
   * written to stderr with the subject, so it is never silent.
   */
  /** `jetstream`: whether the core it serves has a JetStream engine (null: not known). */
  constructor(
    private readonly router: Router,
    private readonly onHandlerError: HandlerErrorListener = reportHandlerError,
    readonly jetstream: boolean | null = null,
  ) {
    this.host = { router, onHandlerError, live: this.subscriptions };
  }

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
    const subscription = new HandlerSubscription(this.host, subject, queue, handler);
    const sub = subscription.sub;
    if (options.max !== undefined && options.max > 0) sub.max = options.max;
    sub.hidesReserved = options.excludeReserved === true && startsWithWildcardToken(subject);
    this.subscriptions.add(subscription);
    if (claim) this.router.subscribeClaim(sub);
    else this.router.subscribe(sub);
    return subscription;
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage> {
    // Not async: everything up to the routing is synchronous, and an executor that throws rejects.
    return new Promise<BrokerMessage>((resolve, reject) => {
      this.assertOpen();
      this.assertSubject(subject);
      this.inbox ??= this.subscribeInbox();
      const { headerSize, message } = encodeMessage(data, options);
      // Held before it is routed: an in-process responder may answer during publish().
      const token = this.requests.add(subject, options.timeoutMs, resolve, reject);
      let delivered: number;
      try {
        delivered = this.router.publish(subject, this.inboxPrefix + token, headerSize, message, null);
      } catch (error) {
        this.requests.reject(token, () => (error instanceof Error ? error : new Error(String(error))));
        return;
      }
      if (delivered === 0) this.requests.reject(token, (to) => new NoRespondersError(to));
      else this.requests.watch(token);
    });
  }

  async flush(): Promise<void> {
    // Publishing is synchronous into the router: nothing is in flight.
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const subscription of [...this.subscriptions]) subscription.unsubscribe();
    this.requests.clear();
  }

  /**
   * Every reply subject is new, so a sublist match would always miss its cache
   * and walk the trie: the inbox claims its prefix instead. Replies are one
   * token under it; anything deeper finds no pending request and is ignored.
   */
  private subscribeInbox(): BrokerSubscription {
    return this.subscribeNow(`${this.inboxPrefix}>`, (message) => this.requests.resolve(message.subject.slice(this.inboxPrefix.length), message), {}, true);
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
