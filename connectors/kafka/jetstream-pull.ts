// A durable JetStream pull consumer through the Broker port (nats-server
// jetstream_api.go, ADR-13): create it with $JS.API.CONSUMER.DURABLE.CREATE,
// then ask for batches with $JS.API.CONSUMER.MSG.NEXT, the deliveries arriving
// on an inbox of ours. Each delivery's reply subject is its ack subject
// ($JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>).
// Status messages (no body, a status line) end a pull early: 404 No Messages,
// 408 Request Timeout, 409 (consumer deleted, max waiting...); 100 is a heartbeat.

import { randomBytes } from 'node:crypto';
import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { NoRespondersError, RequestTimeoutError } from '../../core/broker/errors.ts';
import { errorMessage, JetStreamPublishError, KafkaBridgeError } from './errors.ts';

export interface DurableConsumerConfig {
  stream: string;
  durable: string;
  /** null: the whole stream. */
  filter: string | null;
  ackWaitMs: number;
  maxAckPending: number;
}

interface ApiReply {
  error?: { code?: number; err_code?: number; description?: string };
}

function decode(message: BrokerMessage): ApiReply {
  return JSON.parse(Buffer.from(message.data).toString('utf8')) as ApiReply;
}

/** Create the durable consumer, or accept the existing one with the same configuration. */
export async function ensureDurableConsumer(broker: Broker, mapping: string, config: DurableConsumerConfig): Promise<void> {
  const wire: Record<string, unknown> = {
    durable_name: config.durable,
    ack_policy: 'explicit',
    deliver_policy: 'all',
    replay_policy: 'instant',
    ack_wait: config.ackWaitMs * 1_000_000,
    max_ack_pending: config.maxAckPending,
  };
  if (config.filter !== null && config.filter !== '>') wire.filter_subject = config.filter;
  const subject = `$JS.API.CONSUMER.DURABLE.CREATE.${config.stream}.${config.durable}`;
  let reply: BrokerMessage;
  try {
    reply = await broker.request(subject, Buffer.from(JSON.stringify({ stream_name: config.stream, config: wire })), { timeoutMs: 5_000 });
  } catch (error) {
    const why = error instanceof NoRespondersError ? 'JetStream is not available' : error instanceof RequestTimeoutError ? 'no answer within 5000 ms' : errorMessage(error);
    throw new KafkaBridgeError(`cannot create consumer ${config.durable} on stream ${config.stream}: ${why}`, mapping, { cause: error });
  }
  const answer = decode(reply);
  if (answer.error !== undefined) {
    throw new JetStreamPublishError(mapping, subject, `consumer ${config.durable} on stream ${config.stream}: ${answer.error.description ?? 'error'}`, answer.error.err_code ?? null);
  }
}

/** Pending count from an ack subject (v1: 9 tokens; v2 adds domain and account hash in front). */
export function pendingFromAckSubject(reply: string | null): number | null {
  if (reply === null) return null;
  const tokens = reply.split('.');
  const pending = tokens.length === 9 ? tokens[8] : tokens.length >= 11 ? tokens[10] : undefined;
  const n = Number(pending);
  return pending === undefined || !Number.isFinite(n) ? null : n;
}

interface OpenPull {
  id: string;
  want: number;
  got: BrokerMessage[];
  done: (messages: BrokerMessage[]) => void;
  timer: NodeJS.Timeout;
}

export class PullFetcher {
  private readonly prefix = `_INBOX.kafka.${randomBytes(8).toString('hex')}.`;
  private subscription: BrokerSubscription | null = null;
  private open: OpenPull | null = null;
  /** Deliveries for a pull that had already ended: handed out with the next pull. */
  private stray: BrokerMessage[] = [];
  private next = 0;

  constructor(private readonly broker: Broker, private readonly stream: string, private readonly durable: string) {}

  async start(): Promise<void> {
    this.subscription ??= await this.broker.subscribe(`${this.prefix}*`, (message) => this.onDelivery(message));
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.finish();
  }

  /** Up to `batch` messages; fewer when the consumer has no more within `expiresMs`. */
  async fetch(batch: number, expiresMs: number): Promise<BrokerMessage[]> {
    if (this.stray.length >= batch) return this.stray.splice(0, batch);
    const id = (this.next++).toString(36);
    const want = batch - this.stray.length;
    const result = new Promise<BrokerMessage[]>((resolve) => {
      const got = this.stray;
      this.stray = [];
      // The server ends the pull at `expires`; the local timer is only a safety net.
      const timer = setTimeout(() => this.finish(), expiresMs + 1_000);
      this.open = { id, want: batch, got, done: resolve, timer };
    });
    const body = JSON.stringify({ batch: want, expires: expiresMs * 1_000_000 });
    await this.broker.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${this.durable}`, Buffer.from(body), { reply: this.prefix + id });
    return result;
  }

  private onDelivery(message: BrokerMessage): void {
    // Deliveries keep their stream subject (routed to us by subscription); only
    // status messages are addressed to the pull's own inbox subject.
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

export const ACK = Buffer.from('+ACK');
export const IN_PROGRESS = Buffer.from('+WPI');
export const TERMINATE = Buffer.from('+TERM');
