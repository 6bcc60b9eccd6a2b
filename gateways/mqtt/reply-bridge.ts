// MQTT 5 request/response <-> NATS request/reply.
//
// A request without correlation data maps its response topic straight to the
// reply subject (stateless and reversible). With correlation data the reply
// subject is a token `_INBOX.mqtt.<gateway>.<n>` (an inbox, so MQTT `#` does
// not see it): a NATS service answers the token with a plain `respond()`, and
// the bridge republishes that answer on the response topic with the
// correlation data the requester is waiting for. MQTT responders keep seeing
// the exact response topic through a header.

import { randomBytes } from 'node:crypto';
import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { MessageHeaders } from '../../core/broker/headers.ts';
import { MqttHeader } from './message.ts';
import { topicToSubject } from './topic-mapping.ts';

interface PendingReply {
  subject: string;
  correlation: string;
  expiresAt: number;
}

export interface ReplyBridgeOptions {
  /** How long a token accepts answers. */
  ttlMs: number;
  /** At most this many open tokens; the oldest is forgotten first. */
  maxPending: number;
}

export class ReplyBridge {
  readonly prefix = `_INBOX.mqtt.${randomBytes(8).toString('base64url').replace(/[-_]/g, 'x')}.`;
  private readonly pending = new Map<string, PendingReply>();
  private next = 0;
  private subscription: BrokerSubscription | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly broker: Broker, private readonly options: ReplyBridgeOptions) {}

  async start(): Promise<void> {
    this.subscription = await this.broker.subscribe(`${this.prefix}*`, (m) => this.onReply(m));
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1000, Math.floor(this.options.ttlMs / 4)));
    this.sweeper.unref();
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.pending.clear();
  }

  /** The reply subject for a publish with this response topic (and correlation data). */
  replyFor(responseTopic: string, correlationData: Buffer | undefined): string {
    const subject = topicToSubject(responseTopic);
    if (correlationData === undefined || this.subscription === null) return subject;
    const token = (this.next++).toString(36);
    if (this.pending.size >= this.options.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(token, { subject, correlation: correlationData.toString('base64'), expiresAt: Date.now() + this.options.ttlMs });
    return this.prefix + token;
  }

  private onReply(m: BrokerMessage): void {
    const entry = this.pending.get(m.subject.slice(this.prefix.length));
    if (entry === undefined) return;
    const headers = new MessageHeaders();
    if (m.headers !== null) {
      for (const [k, v] of m.headers) if (k.toLowerCase() !== MqttHeader.CorrelationData.toLowerCase()) headers.append(k, v);
    }
    headers.append(MqttHeader.CorrelationData, entry.correlation);
    void this.broker.publish(entry.subject, m.data, { headers, reply: m.reply ?? undefined }).catch(() => {
      // The response topic's subject was valid when mapped; a closed broker just drops the answer.
    });
  }

  private sweep(now: number): void {
    for (const [token, entry] of this.pending) {
      if (entry.expiresAt > now) break; // insertion order = expiry order
      this.pending.delete(token);
    }
  }
}
