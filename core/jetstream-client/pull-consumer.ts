// A JetStream pull consumer over the Broker port (nats-server jetstream_api.go,
// ADR-13), as the HTTP gateway's fetch routes and the Kafka bridge use it: one
// inbox subscription of ours (`<inbox>.*`), each pull a CONSUMER.MSG.NEXT request
// whose reply subject is `<inbox>.<pull id>`. Deliveries keep their stream
// subject (they reach us by subscription); each one's reply subject is its ack
// subject (`$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`).
// Only status messages (no body) are addressed to the pull's own inbox subject:
// 404 No Messages, 408 Request Timeout and 409 (consumer deleted, max waiting,
// ...) end that pull early; 100 is a heartbeat. An ack is a publish to the ack
// subject: `+ACK`, `-NAK {"delay": ns}`, `+TERM`, `+WPI`.

import { randomBytes } from 'node:crypto';
import type { Broker, BrokerMessage, BrokerSubscription } from '../broker/broker.ts';
import type { JetStreamClient } from './jetstream-client.ts';

export type AckAction = { readonly kind: 'ack' } | { readonly kind: 'nak'; readonly delayMs?: number } | { readonly kind: 'term' } | { readonly kind: 'progress' };

/** The actions without arguments, one object each, so a hot path settles without allocating. */
export const AckActions = {
  ack: { kind: 'ack' },
  nak: { kind: 'nak' },
  term: { kind: 'term' },
  progress: { kind: 'progress' },
} as const satisfies Record<string, AckAction>;

const BODIES = {
  ack: Buffer.from('+ACK'),
  nak: Buffer.from('-NAK'),
  term: Buffer.from('+TERM'),
  progress: Buffer.from('+WPI'),
} as const;

/** Acknowledge (or nak, term, extend) one delivery by its ack subject; needs no PullConsumer of its own. */
export function settleDelivery(broker: Broker, ackSubject: string, action: AckAction): Promise<void> {
  const body = action.kind === 'nak' && action.delayMs !== undefined ? Buffer.from(`-NAK ${JSON.stringify({ delay: action.delayMs * 1_000_000 })}`) : BODIES[action.kind];
  return broker.publish(ackSubject, body);
}

/** A CONSUMER.MSG.NEXT request body (wire names; `expires` in nanoseconds). */
export interface PullRequest {
  batch: number;
  expires?: number;
  no_wait?: boolean;
}

interface OpenPull {
  id: string;
  want: number;
  got: BrokerMessage[];
  done: (messages: BrokerMessage[]) => void;
  timer: NodeJS.Timeout;
}

/** The server ends a pull at its expiry; a local timer this much later is only a safety net. */
const GUARD_MS = 1_000;
/**
 * How long a no_wait pull may take before we stop listening. No expiry is sent
 * with no_wait: nats-server then waits out the expiry instead of answering now.
 */
const NO_WAIT_WAIT_MS = 1_000;

export class PullConsumer {
  private readonly prefix = `_INBOX.${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}.`;
  private readonly nextSubject: string;
  private subscription: BrokerSubscription | null = null;
  private open: OpenPull | null = null;
  /** Deliveries for a pull that had already ended: handed out with the next pull. */
  private stray: BrokerMessage[] = [];
  private next = 0;

  constructor(
    private readonly broker: Broker,
    js: JetStreamClient,
    readonly stream: string,
    readonly consumer: string,
  ) {
    this.nextSubject = js.apiSubject('CONSUMER.MSG.NEXT', stream, consumer);
  }

  /** Subscribe the inbox; once this resolves the subscription is live at the core (or the cluster). */
  async start(): Promise<void> {
    if (this.subscription !== null) return;
    this.subscription = await this.broker.subscribe(`${this.prefix}*`, (message) => this.onDelivery(message));
    await this.broker.flush();
  }

  /** Ends the subscription and the open pull; deliveries still on their way are redelivered after ack_wait. */
  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.finish();
  }

  /** Up to `batch` messages; fewer when the consumer has no more within `expiresMs`. */
  fetch(batch: number, expiresMs: number): Promise<BrokerMessage[]> {
    return this.pull({ batch, expires: expiresMs * 1_000_000 }, expiresMs);
  }

  /**
   * Up to `batch` messages, waiting at most `timeoutMs` for the first (0 = only
   * what is ready now), and returning as soon as something arrived: a long poll.
   * JetStream pulls cannot be withdrawn, so no pull is left open with spare
   * credit when this returns: what is ready is taken with no_wait; otherwise one
   * message is awaited and the rest topped up with no_wait.
   */
  async poll(batch: number, timeoutMs: number): Promise<BrokerMessage[]> {
    const ready = await this.pull({ batch, no_wait: true }, NO_WAIT_WAIT_MS);
    if (ready.length > 0 || timeoutMs === 0) return ready;
    const first = await this.fetch(1, timeoutMs);
    if (first.length === 0 || batch === 1) return first;
    return [...first, ...(await this.pull({ batch: batch - 1, no_wait: true }, NO_WAIT_WAIT_MS))];
  }

  settle(ackSubject: string, action: AckAction): Promise<void> {
    return settleDelivery(this.broker, ackSubject, action);
  }

  /** One CONSUMER.MSG.NEXT request; ends on a full batch, a status message, or `waitMs` plus a guard. Precondition: start() resolved. */
  private async pull(request: PullRequest, waitMs: number): Promise<BrokerMessage[]> {
    if (this.stray.length >= request.batch) return this.stray.splice(0, request.batch);
    const id = (this.next++).toString(36);
    const want = request.batch - this.stray.length;
    const result = new Promise<BrokerMessage[]>((resolve) => {
      const got = this.stray;
      this.stray = [];
      const timer = setTimeout(() => this.finish(), waitMs + GUARD_MS);
      this.open = { id, want: request.batch, got, done: resolve, timer };
    });
    await this.broker.publish(this.nextSubject, Buffer.from(JSON.stringify({ ...request, batch: want })), { reply: this.prefix + id });
    return result;
  }

  private onDelivery(message: BrokerMessage): void {
    const status = message.headers?.status ?? 0;
    if (status > 0 && message.data.byteLength === 0 && message.subject.startsWith(this.prefix)) {
      if (status !== 100 && this.open?.id === message.subject.slice(this.prefix.length)) this.finish();
      return;
    }
    if (this.open === null) {
      this.stray.push(message);
      return;
    }
    this.open.got.push(message);
    if (this.open.got.length >= this.open.want) this.finish();
  }

  private finish(): void {
    const open = this.open;
    if (open === null) return;
    this.open = null;
    clearTimeout(open.timer);
    open.done(open.got);
  }
}
