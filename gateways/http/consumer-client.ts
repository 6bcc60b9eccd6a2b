// Durable pull consumers over the JetStream API, as NATS clients use them:
// CONSUMER.CREATE/INFO/DELETE/LIST requests, a fetch is one CONSUMER.MSG.NEXT
// request whose messages arrive on a private inbox, and an ack is a publish to
// the message's ack subject (`+ACK`, `-NAK {"delay": ns}`, `+TERM`, `+WPI`).

import { randomBytes } from 'node:crypto';
import type { Broker, BrokerMessage } from '../../core/broker/broker.ts';
import { parseAckReply, type AckReply } from '../../core/kv/ack-reply.ts';
import type { JetStreamClient } from '../../core/kv/jetstream-client.ts';

export type ConsumerConfigWire = Record<string, unknown> & { durable_name?: string; name?: string };
export type ConsumerInfoWire = Record<string, unknown> & { name: string; stream_name: string; config: ConsumerConfigWire };

export interface FetchedMessage {
  message: BrokerMessage;
  ack: AckToken;
}

/** A fetched message's ack reply subject, as the HTTP consumer routes hand it out and take it back. */
export type AckToken = AckReply;

export type AckAction = { kind: 'ack' } | { kind: 'nak'; delayMs?: number } | { kind: 'term' } | { kind: 'progress' };

function ackBody(action: AckAction): string {
  switch (action.kind) {
    case 'ack':
      return '+ACK';
    case 'nak':
      return action.delayMs === undefined ? '-NAK' : `-NAK ${JSON.stringify({ delay: action.delayMs * 1_000_000 })}`;
    case 'term':
      return '+TERM';
    case 'progress':
      return '+WPI';
  }
}

const encoder = new TextEncoder();
/**
 * How long a no_wait pull may take before the gateway stops listening. No expiry is
 * sent with no_wait: nats-server then waits out the expiry instead of answering now.
 */
const NO_WAIT_GUARD_MS = 1_000;

export class ConsumerClient {
  constructor(
    private readonly broker: Broker,
    readonly js: JetStreamClient,
  ) {}

  create(stream: string, config: ConsumerConfigWire): Promise<ConsumerInfoWire> {
    const name = String(config.durable_name ?? config.name);
    return this.js.api<ConsumerInfoWire>('CONSUMER.CREATE', [stream, name], { stream_name: stream, config });
  }

  info(stream: string, consumer: string): Promise<ConsumerInfoWire> {
    return this.js.api<ConsumerInfoWire>('CONSUMER.INFO', [stream, consumer]);
  }

  async delete(stream: string, consumer: string): Promise<void> {
    await this.js.api('CONSUMER.DELETE', [stream, consumer]);
  }

  async list(stream: string): Promise<ConsumerInfoWire[]> {
    const all: ConsumerInfoWire[] = [];
    for (let page = 0; page < 10_000; page++) {
      const answer = await this.js.api<{ consumers: ConsumerInfoWire[] | null; total: number }>('CONSUMER.LIST', [stream], { offset: all.length });
      const consumers = answer.consumers ?? [];
      all.push(...consumers);
      if (consumers.length === 0 || all.length >= answer.total) break;
    }
    return all;
  }

  /**
   * Up to `batch` messages, waiting at most `timeoutMs` for the first (0 = only
   * what is ready now), and returning as soon as something arrived: an HTTP long
   * poll. JetStream pulls cannot be withdrawn, so no pull is left open with spare
   * credit when this returns: what is ready is taken with no_wait; otherwise one
   * message is awaited and the rest topped up with no_wait.
   */
  async fetch(stream: string, consumer: string, batch: number, timeoutMs: number): Promise<FetchedMessage[]> {
    const ready = await this.pull(stream, consumer, { batch, no_wait: true }, NO_WAIT_GUARD_MS);
    if (ready.length > 0 || timeoutMs === 0) return ready;
    const first = await this.pull(stream, consumer, { batch: 1, expires: timeoutMs * 1_000_000 }, timeoutMs);
    if (first.length === 0 || batch === 1) return first;
    return [...first, ...(await this.pull(stream, consumer, { batch: batch - 1, no_wait: true }, NO_WAIT_GUARD_MS))];
  }

  /** One CONSUMER.MSG.NEXT request; ends on a full batch, a status message, or expiry plus a guard. */
  private async pull(stream: string, consumer: string, request: { batch: number; no_wait?: boolean; expires?: number }, expiresMs: number): Promise<FetchedMessage[]> {
    const inbox = `_INBOX.${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
    const got: FetchedMessage[] = [];
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const sub = await this.broker.subscribe(inbox, (message) => {
      const status = message.headers?.status ?? 0;
      if (status > 0) {
        if (status !== 100) finish(); // 404 no messages, 408 expired, 409 terminated; 100 = heartbeat
        return;
      }
      const ack = message.reply === null ? null : parseAckReply(message.reply);
      if (ack === null) return;
      got.push({ message, ack });
      if (got.length >= request.batch) finish();
    });
    const timer = setTimeout(finish, expiresMs + 500); // the server's expiry comes first; this is a guard
    try {
      await this.broker.flush();
      await this.broker.publish(this.js.apiSubject('CONSUMER.MSG.NEXT', stream, consumer), encoder.encode(JSON.stringify(request)), { reply: inbox });
      await done;
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
    return got;
  }

  async acknowledge(token: AckToken, action: AckAction): Promise<void> {
    await this.broker.publish(token.subject, encoder.encode(ackBody(action)));
    await this.broker.flush();
  }
}
