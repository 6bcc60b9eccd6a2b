// The Broker port on a real NATS server or cluster, through the official
// client. Gateways run unchanged on it when users outgrow one machine.

import {
  connect,
  headers as natsHeaders,
  errors as natsErrors,
  type ConnectionOptions,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
import { MessageHeaders } from '../protocol/headers.ts';
import type {
  Broker,
  BrokerMessage,
  BrokerSubscription,
  MessageHandler,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './broker.ts';
import { BrokerError, NatsConnectError, NoRespondersError, RequestTimeoutError } from './errors.ts';
import { guardHandler, reportHandlerError, type HandlerErrorListener } from './handler-guard.ts';
import { withDefaultReplicas } from './stream-replicas.ts';
import { assertPublishSubject, assertSubscription } from './validate.ts';

export interface NatsBrokerOptions {
  servers: string | string[];
  user?: string;
  pass?: string;
  token?: string;
  name?: string;
  /** TLS to the servers: CA and client certificate files; an empty object requires TLS with the system CAs. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** num_replicas for stream creates that leave it unset (see stream-replicas.ts); default 1. */
  streamReplicas?: number;
  /** Extra client options (TLS, reconnect policy) passed through unchanged. */
  client?: Partial<ConnectionOptions>;
  /** Hears about subscription handlers that throw (default: stderr). */
  onHandlerError?: HandlerErrorListener;
}

function toNatsHeaders(h: MessageHeaders | undefined): MsgHdrs | undefined {
  if (h === undefined) return undefined;
  const out = natsHeaders(h.status || undefined, h.description || undefined);
  for (const [key, value] of h) out.append(key, value);
  return out;
}

function fromNatsHeaders(h: MsgHdrs | undefined): MessageHeaders | null {
  if (h === undefined) return null;
  const out = MessageHeaders.status(h.code, h.description);
  for (const [key, values] of h) for (const value of values) out.append(key, value);
  return out;
}

function fromNatsMsg(msg: Msg): BrokerMessage {
  // nats.js reports a message without a reply as '' (or undefined); the port says null.
  return { subject: msg.subject, reply: msg.reply || null, headers: fromNatsHeaders(msg.headers), data: msg.data };
}

export class NatsBroker implements Broker {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly onHandlerError: HandlerErrorListener,
    private readonly streamReplicas: number,
  ) {}

  static async connect(options: NatsBrokerOptions): Promise<NatsBroker> {
    try {
      const nc = await connect({
        servers: options.servers,
        user: options.user,
        pass: options.pass,
        token: options.token,
        name: options.name ?? 'switchboard-gateway',
        tls: options.tls,
        maxReconnectAttempts: -1,
        ...options.client,
      });
      return new NatsBroker(nc, options.onHandlerError ?? reportHandlerError, options.streamReplicas ?? 1);
    } catch (cause) {
      throw new NatsConnectError(typeof options.servers === 'string' ? [options.servers] : options.servers, { cause });
    }
  }

  async publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void> {
    assertPublishSubject(subject);
    this.nc.publish(subject, data, { reply: options?.reply, headers: toNatsHeaders(options?.headers) });
  }

  async subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<BrokerSubscription> {
    assertSubscription(subject, options.queue);
    const guarded = guardHandler(handler, this.onHandlerError);
    const sub = this.nc.subscribe(subject, {
      queue: options.queue,
      max: options.max,
      callback: (error, msg) => {
        if (error === null) guarded(fromNatsMsg(msg));
      },
    });
    const closed = sub.closed.then(() => undefined, () => undefined);
    return { subject, queue: options.queue ?? null, closed, unsubscribe: () => sub.unsubscribe() };
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage> {
    assertPublishSubject(subject);
    try {
      const body = withDefaultReplicas(subject, data, this.streamReplicas);
      return fromNatsMsg(await this.nc.request(subject, body, { timeout: options.timeoutMs, headers: toNatsHeaders(options.headers) }));
    } catch (cause) {
      if (cause instanceof natsErrors.NoRespondersError || (cause instanceof natsErrors.RequestError && cause.isNoResponders())) {
        throw new NoRespondersError(subject, { cause });
      }
      if (cause instanceof natsErrors.TimeoutError || (cause instanceof Error && cause.cause instanceof natsErrors.TimeoutError)) {
        throw new RequestTimeoutError(subject, options.timeoutMs, { cause });
      }
      throw new BrokerError(`request to ${JSON.stringify(subject)} failed`, { cause });
    }
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
