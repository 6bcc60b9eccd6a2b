// One NATS client connection: parses its input, applies its options and
// permissions, routes its publishes, batches its deliveries and protects the
// server from it (payload and control-line limits, slow consumer, stale
// connection, auth timeout). Works over any Connection.

import type { Authorizer, Principal, PrincipalListener } from '../auth/authorizer.ts';
import { UNRESTRICTED_PRINCIPAL } from '../auth/authorizer.ts';
import type { ServerOptions } from '../config/server-options.ts';
import { ClientParser, type ClientOpHandler } from '../protocol/client-parser.ts';
import { NatsErrorCode, NatsProtocolError } from '../protocol/errors.ts';
import { encodeMessageTarget, OutboundBuffer } from '../protocol/outbound-buffer.ts';
import { isValidPublishSubject, isValidQueueName, isValidSubscriptionSubject } from '../subject/subject.ts';
import type { Connection } from '../connection/connection.ts';
import type { Router } from './router.ts';
import { Subscription, type Subscriber } from './subscription.ts';
import { parseConnectOptions, type ConnectOptions } from './connect-options.ts';
import { CloseReason } from './close-reason.ts';
import { clientCredentials } from './client-credentials.ts';
import { DrainWaiters, noteStalled, PublisherStall, takeStalled, type StallDestination } from './publisher-stall.ts';

const PING = Buffer.from('PING\r\n');
const PONG = 'PONG\r\n';
const OK = '+OK\r\n';
const EMPTY = Buffer.alloc(0);
/** Header-only status message for a request nobody can answer (ADR-4 status 503). */
const NO_RESPONDERS = Buffer.from('NATS/1.0 503\r\n\r\n');

export interface ClientStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  /** Times this publisher was paused for a destination past half its max_pending. */
  stalls: number;
}

/** What a client needs from the server that owns it. */
export interface ClientHost {
  readonly options: ServerOptions;
  readonly router: Router;
  readonly authorizer: Authorizer;
  infoLine(client: NatsClient): string;
  scheduleFlush(client: NatsClient): void;
  onSlowConsumer(client: NatsClient): void;
  onAuthFailure(client: NatsClient): void;
  /** A PUB refused by the client's permissions: the message is dropped (and counted). */
  onPublishDenied(client: NatsClient): void;
  onClientClosed(client: NatsClient, reason: CloseReason): void;
}

/**
 * A client's subscription, with its MSG line prefix cached for a subject delivered twice in a
 * row. A subject seen once (a reply inbox, a PubAck's) is written as text instead: encoding a
 * target Buffer for it would be an allocation per message that is never reused.
 */
class NatsSubscription extends Subscription {
  targetSubject = '';
  target: Buffer = EMPTY;
  /** The last subject delivered without a cached target. */
  lastSubject = '';
}

export class NatsClient implements Subscriber, ClientOpHandler, StallDestination {
  readonly stats: ClientStats = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, stalls: 0 };
  readonly subscriptions = new Map<string, Subscription>();
  readonly startedAt = new Date();
  lastActivity = Date.now();
  /** Round-trip time of the last server PING, ms; -1 before one completed. */
  rttMs = -1;
  /** nats-server's defaults until CONNECT says otherwise: verbose, pedantic and echo on. */
  options: ConnectOptions = parseConnectOptions('{}');
  principal: Principal = UNRESTRICTED_PRINCIPAL;
  closeReason: CloseReason | null = null;

  private readonly parser: ClientParser;
  private readonly outbound = new OutboundBuffer();
  private connected = false;
  /** The peer closed the transport: nothing more can be written. */
  private connectionGone = false;
  private flushScheduled = false;
  /** This publisher's input paused for a slow destination (publisher-stall.ts). */
  private readonly stall: PublisherStall;
  /** Publishers stalled until our writes drain. */
  private readonly drainWaiters = new DrainWaiters();
  private pingsOut = 0;
  private pingSentAt = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  /** Operations received while CONNECT's password is being checked; null when none is. */
  private deferred: Array<() => void> | null = null;
  private writeDeadlineTimer: NodeJS.Timeout | null = null;
  /** Stops listening for reloads of this client's rules (see adopt). */
  private unwatch: (() => void) | null = null;

  constructor(readonly id: number, readonly connection: Connection, private readonly host: ClientHost) {
    this.parser = new ClientParser(this, host.options);
    this.stall = new PublisherStall(connection, () => this.isClosed);
  }

  get echo(): boolean {
    return this.options.echo;
  }

  get isClosed(): boolean {
    return this.closeReason !== null;
  }

  /** Bytes waiting to reach this client: our batch plus the transport's queue. */
  get pendingBytes(): number {
    return this.outbound.length + this.connection.writableLength;
  }

  start(): void {
    this.connection.onData((chunk) => this.receive(chunk));
    this.connection.onDrain(() => {
      this.clearWriteDeadline();
      this.drainWaiters.release();
    });
    this.connection.onClose(() => this.close(CloseReason.ClientClosed));
    this.outbound.appendString(this.host.infoLine(this));
    this.flush();
    const { pingIntervalMs, authTimeoutMs } = this.host.options;
    this.pingTimer = setInterval(() => this.pingTick(), pingIntervalMs);
    this.pingTimer.unref();
    if (this.host.authorizer.authRequired) {
      this.authTimer = setTimeout(() => {
        if (!this.connected) this.fatal(new NatsProtocolError(NatsErrorCode.AuthenticationTimeout), CloseReason.AuthenticationTimeout);
      }, authTimeoutMs);
      this.authTimer.unref();
    }
  }

  receive(chunk: Buffer): void {
    if (this.isClosed) return;
    this.lastActivity = Date.now();
    this.parser.parse(chunk);
  }

  // ---- ClientOpHandler ----

  onConnect(json: string): void {
    if (this.deferred !== null) return void this.deferred.push(() => this.onConnect(json));
    let options: ConnectOptions;
    try {
      options = parseConnectOptions(json);
    } catch (error) {
      this.fatal(new NatsProtocolError(NatsErrorCode.ParserError, { detail: 'CONNECT is not valid JSON', cause: error }), CloseReason.ProtocolError);
      return;
    }
    if (options.protocol < 0 || options.protocol > 1) {
      this.fatal(new NatsProtocolError(NatsErrorCode.InvalidClientProtocol, { detail: `protocol ${options.protocol}` }), CloseReason.ProtocolError);
      return;
    }
    const result = this.host.authorizer.authenticate(clientCredentials(this.id, this.connection, options));
    if (!(result instanceof Promise)) {
      this.admit(options, result);
      return;
    }
    // A bcrypt check on a worker thread: hold what the client pipelined after
    // CONNECT (and stop reading) until it is done, so every operation is still
    // judged by the user it came from, in order.
    this.deferred = [];
    this.connection.pauseReading?.();
    result.then(
      (principal) => this.admit(options, principal),
      () => this.admit(options, null),
    );
  }

  private admit(options: ConnectOptions, principal: Principal | null): void {
    const deferred = this.deferred;
    this.deferred = null;
    if (deferred !== null) this.connection.resumeReading?.();
    if (this.isClosed) return;
    if (principal === null) {
      this.host.onAuthFailure(this);
      this.fatal(new NatsProtocolError(NatsErrorCode.AuthorizationViolation), CloseReason.AuthenticationViolation);
      return;
    }
    this.adopt(principal);
    this.options = options;
    this.connected = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.ok();
    if (deferred !== null) for (const operation of deferred) if (!this.isClosed) operation();
  }

  onPub(subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void {
    if (this.deferred !== null) return void this.deferred.push(() => this.onPub(subject, reply, headerSize, source, start, end));
    if (!this.admitted()) return;
    this.stats.inMsgs++;
    this.stats.inBytes += end - start;
    if (this.options.pedantic && !isValidPublishSubject(subject)) {
      this.sendError(new NatsProtocolError(NatsErrorCode.InvalidPublishSubject, { detail: subject }));
      return;
    }
    if (!this.principal.canPublish(subject)) {
      this.host.onPublishDenied(this);
      this.sendError(new NatsProtocolError(NatsErrorCode.PublishPermission, { subject }));
      return;
    }
    // nats-server acknowledges a verbose PUB before delivering it (even to itself).
    this.ok();
    // Forget what a server-made publish (no client to stall) may have left noted.
    takeStalled();
    const delivered = this.host.router.publishRange(subject, reply, headerSize, source, start, end, this);
    if (delivered === 0 && reply !== null && this.options.noResponders) this.noResponders(reply);
    const stalled = takeStalled();
    if (stalled !== null && stalled !== this && this.stall.begin(stalled, this.host.options.maxPending)) this.stats.stalls++;
  }

  onSub(subject: string, queue: string | null, sid: string): void {
    if (this.deferred !== null) return void this.deferred.push(() => this.onSub(subject, queue, sid));
    if (!this.admitted()) return;
    if (!isValidSubscriptionSubject(subject)) {
      this.sendError(new NatsProtocolError(NatsErrorCode.InvalidSubject, { detail: subject }));
      return;
    }
    if (queue !== null && !isValidQueueName(queue)) {
      this.sendError(new NatsProtocolError(NatsErrorCode.InvalidQueueName, { detail: queue }));
      return;
    }
    if (!this.principal.canSubscribe(subject, queue)) {
      this.sendError(queue === null
        ? new NatsProtocolError(NatsErrorCode.SubscribePermission, { subject })
        : new NatsProtocolError(NatsErrorCode.SubscribeQueuePermission, { subject, queue }));
      return;
    }
    // A repeated sid is ignored, as nats-server does.
    if (!this.subscriptions.has(sid)) {
      const sub = new NatsSubscription(this, subject, queue, sid);
      this.subscriptions.set(sid, sub);
      this.host.router.subscribe(sub);
    }
    this.ok();
  }

  onUnsub(sid: string, max: number): void {
    if (this.deferred !== null) return void this.deferred.push(() => this.onUnsub(sid, max));
    if (!this.admitted()) return;
    const sub = this.subscriptions.get(sid);
    if (sub !== undefined) {
      if (max > 0 && sub.delivered < max) {
        sub.max = max;
      } else {
        this.subscriptions.delete(sid);
        this.host.router.unsubscribe(sub);
      }
    }
    this.ok();
  }

  onPing(): void {
    if (this.deferred !== null) return void this.deferred.push(() => this.onPing());
    if (!this.admitted()) return;
    this.outbound.appendString(PONG);
    this.scheduleFlush();
  }

  onPong(): void {
    if (this.deferred !== null) return void this.deferred.push(() => this.onPong());
    this.pingsOut = 0;
    if (this.pingSentAt > 0) {
      this.rttMs = Date.now() - this.pingSentAt;
      this.pingSentAt = 0;
    }
  }

  onParseError(error: NatsProtocolError): void {
    const reason = error.code === NatsErrorCode.MaxPayload ? CloseReason.MaxPayload : CloseReason.ProtocolError;
    this.fatal(error, reason);
  }

  // ---- Subscriber ----

  deliver(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    this.deliverRange(sub, subject, reply, headerSize, message, 0, message.length);
  }

  deliverRange(sub: Subscription, subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void {
    if (this.isClosed) return;
    const principal = this.principal;
    // Permission hooks exist only for users whose rules need them (core/auth).
    if (principal.canReceive !== undefined && !principal.canReceive(subject)) return;
    if (reply !== null && principal.noteReply !== undefined) principal.noteReply(reply);
    if (headerSize >= 0 && !this.options.headers) {
      // A client that did not declare header support gets the body only, as nats-server does.
      start += headerSize;
      headerSize = -1;
    }
    const own = sub as NatsSubscription;
    if (own.targetSubject === subject) {
      this.outbound.appendMessage(own.target, reply, headerSize, source, start, end);
    } else if (own.lastSubject === subject) {
      own.target = encodeMessageTarget(subject, sub.sid);
      own.targetSubject = subject;
      this.outbound.appendMessage(own.target, reply, headerSize, source, start, end);
    } else {
      own.lastSubject = subject;
      this.outbound.appendMessageTo(subject, sub.sid, reply, headerSize, source, start, end);
    }
    this.stats.outMsgs++;
    this.stats.outBytes += end - start;
    const pending = this.pendingBytes;
    const { maxPending } = this.host.options;
    if (pending > maxPending) {
      this.slowConsumer(CloseReason.SlowConsumerPendingBytes);
      return;
    }
    // Past half the limit, ask the publisher to wait for us (publisher-stall.ts).
    if (pending > maxPending / 2) noteStalled(this);
    this.scheduleFlush();
  }

  subscriptionEnded(sub: Subscription): void {
    if (this.subscriptions.get(sub.sid) === sub) this.subscriptions.delete(sub.sid);
  }

  // ---- output ----

  /** Write the batch now; called by the server once per event-loop turn. */
  flush(): void {
    this.flushScheduled = false;
    if (this.outbound.length === 0 || this.connectionGone) return;
    const ok = this.connection.write(this.outbound.take());
    if (!ok) this.armWriteDeadline();
    else this.drainWaiters.release();
  }

  /** Lame duck: an INFO with `ldm: true`, as nats-server tells its clients to reconnect elsewhere. */
  sendLameDuckInfo(): void {
    if (this.isClosed) return;
    this.outbound.appendString(this.host.infoLine(this).replace(/\} \r\n$/, ',"ldm":true} \r\n'));
    this.host.scheduleFlush(this);
  }

  /** Orderly close: deliver what is queued (e.g. a final -ERR), then close. */
  close(reason: CloseReason): void {
    if (this.isClosed) return;
    this.closeReason = reason;
    this.stopTimers();
    this.parser.halt();
    this.unwatch?.();
    for (const sub of this.subscriptions.values()) this.host.router.unsubscribe(sub);
    this.subscriptions.clear();
    if (reason === CloseReason.ClientClosed) {
      this.connectionGone = true;
      this.outbound.clear();
    } else {
      this.flush();
      this.connection.end();
    }
    this.host.onClientClosed(this, reason);
  }

  /**
   * The user this client acts as. A config reload may change its rules
   * (nats-server's reload semantics, NS server/reload.go reloadAuthorization):
   * credentials that no longer authenticate close the client with
   * 'Authorization Violation'; otherwise each subscription the new rules no
   * longer allow is removed and reported (NS client.go processSubsOnConfigReload).
   */
  private adopt(principal: Principal): void {
    this.principal = principal;
    const listener: PrincipalListener = {
      changed: () => {
        for (const sub of [...this.subscriptions.values()]) {
          if (this.principal.canSubscribe(sub.subject, sub.queue)) continue;
          this.subscriptions.delete(sub.sid);
          this.host.router.unsubscribe(sub);
          const context = { subject: sub.subject, sid: sub.sid, ...(sub.queue === null ? {} : { queue: sub.queue }) };
          this.sendError(new NatsProtocolError(sub.queue === null ? NatsErrorCode.SubscriptionRevoked : NatsErrorCode.QueueSubscriptionRevoked, context));
        }
      },
      revoked: () => this.fatal(new NatsProtocolError(NatsErrorCode.AuthorizationViolation, { detail: 'credentials no longer valid after reload' }), CloseReason.AuthenticationViolation),
    };
    this.unwatch = principal.watch?.(listener) ?? null;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.host.scheduleFlush(this);
  }

  private ok(): void {
    if (!this.options.verbose) return;
    this.outbound.appendString(OK);
    this.scheduleFlush();
  }

  /**
   * Operations before CONNECT act as a client without credentials: allowed when
   * the authorizer accepts that (open server, or no_auth_user, as nats-server).
   */
  private admitted(): boolean {
    if (this.connected) return true;
    const anonymous = this.host.authorizer.authenticate({});
    // Without credentials there is no password to check, so the answer is immediate (Authorizer contract).
    if (anonymous !== null && !(anonymous instanceof Promise)) {
      this.adopt(anonymous);
      this.connected = true;
      return true;
    }
    this.host.onAuthFailure(this);
    this.fatal(new NatsProtocolError(NatsErrorCode.AuthorizationViolation, { detail: 'operation before CONNECT' }), CloseReason.AuthenticationViolation);
    return false;
  }

  private noResponders(reply: string): void {
    // Only the requester's own subscriptions on the reply subject get the 503.
    const match = this.host.router.sublist.match(reply);
    for (const sub of match.psubs) {
      if (sub.owner === this && !sub.closed) {
        this.deliver(sub, reply, null, NO_RESPONDERS.length, NO_RESPONDERS);
        return;
      }
    }
    for (const group of match.qsubs) {
      for (const sub of group) {
        if (sub.owner === this && !sub.closed) {
          this.deliver(sub, reply, null, NO_RESPONDERS.length, NO_RESPONDERS);
          return;
        }
      }
    }
  }

  private sendError(error: NatsProtocolError): void {
    this.outbound.appendString(error.toWire());
    this.scheduleFlush();
  }

  private fatal(error: NatsProtocolError, reason: CloseReason): void {
    if (this.isClosed) return;
    this.outbound.appendString(error.toWire());
    this.close(reason);
  }

  private slowConsumer(reason: CloseReason): void {
    if (this.isClosed) return;
    this.host.onSlowConsumer(this);
    // The client is not reading, so drop its backlog instead of queueing more.
    this.outbound.clear();
    this.outbound.appendString(new NatsProtocolError(NatsErrorCode.SlowConsumer).toWire());
    this.close(reason);
    this.connection.destroy();
  }

  /** StallDestination: run `listener` once a write of ours is fully accepted by the transport (or we close). */
  afterDrain(listener: () => void): void {
    if (this.isClosed) {
      setImmediate(listener);
      return;
    }
    this.drainWaiters.add(listener);
  }

  private pingTick(): void {
    if (this.pingsOut + 1 > this.host.options.maxPingsOut) {
      this.fatal(new NatsProtocolError(NatsErrorCode.StaleConnection), CloseReason.StaleConnection);
      return;
    }
    this.pingsOut++;
    this.pingSentAt = Date.now();
    this.outbound.appendBytes(PING);
    this.scheduleFlush();
  }

  private armWriteDeadline(): void {
    if (this.writeDeadlineTimer !== null) return;
    this.writeDeadlineTimer = setTimeout(() => {
      this.writeDeadlineTimer = null;
      if (this.connection.writableLength > 0) this.slowConsumer(CloseReason.SlowConsumerWriteDeadline);
    }, this.host.options.writeDeadlineMs);
    this.writeDeadlineTimer.unref();
  }

  private clearWriteDeadline(): void {
    if (this.writeDeadlineTimer === null) return;
    clearTimeout(this.writeDeadlineTimer);
    this.writeDeadlineTimer = null;
  }

  private stopTimers(): void {
    this.stall.cancel();
    this.drainWaiters.release();
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.clearWriteDeadline();
    this.pingTimer = this.authTimer = null;
  }
}
