// The Broker port on a real NATS server or cluster, through the official
// client. Gateways run unchanged on it when users outgrow one machine.

import type { ConnectionOptions, Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { MessageHeaders } from '../protocol/headers.ts';
import { isReservedSubject, startsWithWildcardToken } from '../subject/subject.ts';
import type {
  Broker,
  BrokerMessage,
  BrokerSubscription,
  MessageHandler,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './broker.ts';
import { BrokerClosedError, BrokerError, NatsConnectError, NoRespondersError } from './errors.ts';
import { guardHandler, reportHandlerError, type HandlerErrorListener } from './handler-guard.ts';
import { PendingRequests } from './pending-requests.ts';
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

/**
 * The NATS client, loaded by the first connect() and not at import: an
 * embedded server (no cluster) never pays for it (about 80 ms of every start,
 * issue 29 item 6). Every other use follows a connect().
 */
let nats: typeof import('@nats-io/transport-node');

function toNatsHeaders(h: MessageHeaders | undefined): MsgHdrs | undefined {
  if (h === undefined) return undefined;
  const out = nats.headers(h.status || undefined, h.description || undefined);
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
  /**
   * Requests are answered through one inbox subscription of ours rather than
   * nats.js's request(), which builds an Error (with its stack trace) for every
   * request it settles, answered or not: most of a gateway's CPU for publishes
   * to streams (PubAck requests), measured.
   */
  private readonly requests = new PendingRequests();
  private replies: { prefix: string } | null = null;

  /** From the INFO of the server we are connected to now (it may change on reconnect). */
  get jetstream(): boolean | null {
    return this.nc.info?.jetstream ?? null;
  }

  private closing = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly onHandlerError: HandlerErrorListener,
    private readonly streamReplicas: number,
    private readonly inboxPrefix: string | undefined,
  ) {
    // However the connection ends (close(), or given up reconnecting), nothing waits out its timeout.
    void nc.closed().then(() => this.requests.rejectAll(() => new BrokerClosedError()));
    void this.watchPublishPermissions();
  }

  /**
   * A publish the server refuses (-ERR Permissions Violation for Publish to
   * <subject>) fails the requests waiting on that subject at once, with the
   * server's reason, instead of letting them time out.
   */
  private async watchPublishPermissions(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'error' || !(status.error instanceof nats.errors.PermissionViolationError) || status.error.operation !== 'publish') continue;
      const denied = status.error;
      this.requests.rejectSubject(denied.subject, (to) => new BrokerError(`request to ${JSON.stringify(to)} failed`, { cause: denied }));
    }
  }

  static async connect(options: NatsBrokerOptions): Promise<NatsBroker> {
    try {
      nats ??= await import('@nats-io/transport-node');
      const nc = await nats.connect({
        servers: options.servers,
        user: options.user,
        pass: options.pass,
        token: options.token,
        name: options.name ?? 'switchboard-gateway',
        tls: options.tls,
        maxReconnectAttempts: -1,
        ...options.client,
      });
      return new NatsBroker(nc, options.onHandlerError ?? reportHandlerError, options.streamReplicas ?? 1, options.client?.inboxPrefix);
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
    const hidesReserved = options.excludeReserved === true && startsWithWildcardToken(subject);
    const sub = this.nc.subscribe(subject, {
      queue: options.queue,
      max: options.max,
      callback: (error, msg) => {
        if (error !== null || (hidesReserved && isReservedSubject(msg.subject))) return;
        // Converting is inside the guard too: a throw here would end nats.js's reader for the whole connection.
        let message: BrokerMessage;
        try {
          message = fromNatsMsg(msg);
        } catch (cause) {
          this.onHandlerError(cause, msg.subject);
          return;
        }
        guarded(message);
      },
    });
    const closed = sub.closed.then(() => undefined, () => undefined);
    return { subject, queue: options.queue ?? null, closed, unsubscribe: () => sub.unsubscribe() };
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage> {
    return new Promise<BrokerMessage>((resolve, reject) => {
      assertPublishSubject(subject);
      // Draining: refused before it is sent, as nats.js refuses it, so a stored publish is never reported failed.
      if (this.closing) throw new BrokerClosedError();
      const body = withDefaultReplicas(subject, data, this.streamReplicas);
      let replies: { prefix: string };
      try {
        replies = this.replies ??= this.subscribeReplies();
      } catch (cause) {
        throw new BrokerError(`request to ${JSON.stringify(subject)} failed`, { cause });
      }
      const token = this.requests.add(subject, options.timeoutMs, resolve, reject);
      try {
        this.nc.publish(subject, body, { reply: replies.prefix + token, headers: toNatsHeaders(options.headers) });
      } catch (cause) {
        this.requests.reject(token, (to) => new BrokerError(`request to ${JSON.stringify(to)} failed`, { cause }));
        return;
      }
      this.requests.watch(token);
    });
  }

  /**
   * Replies come to `<inbox>.<token>`. A 503 status with no body is the
   * server's no-responders answer (the client's CONNECT asks for it). If the
   * server refuses the inbox subscription, every waiting request fails with
   * its reason, and the next request subscribes again.
   */
  private subscribeReplies(): { prefix: string } {
    const prefix = `${nats.createInbox(this.inboxPrefix)}.`;
    const replies = { prefix };
    this.nc.subscribe(`${prefix}*`, {
      callback: (error, msg) => {
        if (error !== null) {
          if (this.replies === replies) this.replies = null;
          this.requests.rejectAll((to) => new BrokerError(`request to ${JSON.stringify(to)} failed`, { cause: error }));
          return;
        }
        const token = msg.subject.slice(prefix.length);
        try {
          if (msg.headers?.code === 503 && msg.data.length === 0) this.requests.reject(token, (to) => new NoRespondersError(to));
          else this.requests.resolve(token, fromNatsMsg(msg));
        } catch (cause) {
          // A reply nats.js cannot read (a malformed header) fails its request only; a throw here would end the connection's reader.
          this.requests.reject(token, (to) => new BrokerError(`request to ${JSON.stringify(to)} failed`, { cause }));
        }
      },
    });
    return replies;
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    this.closing = true;
    try {
      if (!this.nc.isClosed()) await this.nc.drain();
    } finally {
      this.requests.rejectAll(() => new BrokerClosedError());
    }
  }
}
