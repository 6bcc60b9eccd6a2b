// The Broker port on the in-process router: no encoding, no sockets. Each
// subscription is an internal Subscriber; requests share one wildcard inbox
// subscription (as the official clients do) instead of one per request.

import { randomBytes } from 'node:crypto';
import { parseHeaders } from '../protocol/headers.ts';
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

/** Turn a routed message (header block + body) into the port's message. */
export function toBrokerMessage(subject: string, reply: string | null, headerSize: number, message: Buffer): BrokerMessage {
  if (headerSize < 0) return { subject, reply, headers: null, data: message };
  return { subject, reply, headers: parseHeaders(message.subarray(0, headerSize)), data: message.subarray(headerSize) };
}

/** Encode port-level headers + body into the router's single-buffer form. */
export function encodeMessage(data: Uint8Array, options: PublishOptions | undefined): { headerSize: number; message: Buffer } {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!options?.headers) return { headerSize: -1, message: body };
  const header = options.headers.encode();
  return { headerSize: header.length, message: Buffer.concat([header, body]) };
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
  timer: NodeJS.Timeout;
}

export class EmbeddedBroker implements Broker {
  private readonly subscriptions = new Set<{ sub: Subscription; owner: HandlerSubscriber }>();
  private readonly inboxPrefix = `_INBOX.${randomBytes(11).toString('base64url')}.`;
  private readonly pending = new Map<string, PendingRequest>();
  private inbox: BrokerSubscription | null = null;
  private nextRequestId = 0;
  private isClosed = false;

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
    assertPublishSubject(subject);
    const { headerSize, message } = encodeMessage(data, options);
    this.router.publish(subject, options?.reply ?? null, headerSize, message, null);
  }

  async subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<BrokerSubscription> {
    this.assertOpen();
    assertSubscription(subject, options.queue);
    const queue = options.queue ?? null;
    const owner = new HandlerSubscriber(guardHandler(handler, this.onHandlerError));
    const sub = new Subscription(owner, subject, queue, String(owner.id));
    if (options.max !== undefined && options.max > 0) sub.max = options.max;
    const entry = { sub, owner };
    this.subscriptions.add(entry);
    this.router.subscribe(sub);
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

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage> {
    this.assertOpen();
    assertPublishSubject(subject);
    await this.ensureInbox();
    const token = (this.nextRequestId++).toString(36);
    const reply = this.inboxPrefix + token;
    return new Promise<BrokerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new RequestTimeoutError(subject, options.timeoutMs));
      }, options.timeoutMs);
      this.pending.set(token, { resolve, timer });
      const { headerSize, message } = encodeMessage(data, options);
      const delivered = this.router.publish(subject, reply, headerSize, message, null);
      if (delivered === 0) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(new NoRespondersError(subject));
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
    for (const request of this.pending.values()) clearTimeout(request.timer);
    this.pending.clear();
  }

  private async ensureInbox(): Promise<void> {
    if (this.inbox !== null) return;
    this.inbox = await this.subscribe(`${this.inboxPrefix}*`, (message) => {
      const token = message.subject.slice(this.inboxPrefix.length);
      const request = this.pending.get(token);
      if (request === undefined) return; // a late or extra answer: the first one won
      this.pending.delete(token);
      clearTimeout(request.timer);
      request.resolve(message);
    });
  }

  private assertOpen(): void {
    if (this.isClosed) throw new BrokerClosedError();
  }
}
