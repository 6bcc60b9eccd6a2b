// The MQTT gateway's shared state and the operations packet handlers call:
// sessions by client id (takeover, expiry, persistence), will messages, and
// the one path from an MQTT publish to the Broker port. Transport-free: the
// listener in gateway.ts feeds it Connections.

import { randomBytes } from 'node:crypto';
import { OpenAuthorizer, type Authorizer } from '../../core/auth/authorizer.ts';
import type { Broker } from '../../core/broker/broker.ts';
import { closeSpread } from '../../core/connection/close-spread.ts';
import type { Connection } from '../../core/connection/connection.ts';
import { JetStreamRetainedStore, JetStreamSessionStore } from './jetstream-store.ts';
import { MemoryRetainedStore, MemorySessionStore } from './memory-store.ts';
import { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import { StreamPublisher } from '../../core/jetstream-client/stream-publisher.ts';
import { MqttHeader, toBrokerPublish, withHeader, type BrokerPublish, type MqttMessage } from './message.ts';
import { MqttClient, type WillMessage } from './mqtt-client.ts';
import type { MqttEvents } from './mqtt-events.ts';
import { NEVER_EXPIRES, resolveMqttOptions, type MqttGatewayOptions, type ResolvedMqttOptions } from './options.ts';
import { ReasonCode } from './reason-codes.ts';
import { ReplyBridge } from './reply-bridge.ts';
import { RetainCapture } from './retain-capture.ts';
import { OrphanedSessions } from './orphaned-sessions.ts';
import { DeadlineSweeper } from './deadline-sweeper.ts';
import { DelayedWills, MAX_TIMER_MS } from './delayed-wills.ts';
import { SessionHandover } from './session-handover.ts';
import { sessionExpiresAt } from './persistent-subscriptions.ts';
import { SessionPersistence } from './session-persistence.ts';
import { subscribeSession } from './session-subscription.ts';
import { toStreamPublishError } from './stream-publish-error.ts';
import { TurnPacer } from './turn-pacer.ts';
import { BACKLOG_READ, Session, type SessionHooks, type SessionLimits, type SessionStats, type SessionSubscription } from './session.ts';
import type { MqttSessionStore, RetainedStore, SessionRecord, SubscriptionRecord } from './store.ts';

export interface MqttGatewayStats extends SessionStats {
  connections: number;
  totalConnections: number;
  /** Subscribers cut off for not reading (their pending bytes over maxPendingBytes). */
  slowConsumers: number;
  /** Bytes those subscribers had pending when cut off: what they lost. */
  slowConsumerBytesDropped: number;
  /** Times a publisher's reads were paused while a destination caught up. */
  publisherStalls: number;
  publishesIn: number;
  deniedPublishes: number;
  deniedSubscribes: number;
  willsSent: number;
  /** PUBLISH packets (and payload bytes) received from and sent to clients, for /metrics. */
  msgsIn: number;
  bytesIn: number;
  msgsOut: number;
  bytesOut: number;
}

/** Handover requests (of SessionHandover's timeout each) before a CONNECT goes on without an answer. */
const HANDOVER_ATTEMPTS = 5;
/** How long a gateway still answers handovers for a session it let go. */
const HANDOVER_LINGER_MS = 3000;
/** How long stop() waits for the connections it closed to report their close. */
const STOP_CLOSE_WAIT_MS = 2_000;
/** How long a QoS 1/2 publish to a stream subject waits for the stream's PubAck. */
const STREAM_PUBLISH_TIMEOUT_MS = 5_000;
/** How long a QoS 1/2 publish to a stream subject is sent again while no stream leader answers (a cluster election). */
const NO_LEADER_RETRY_MS = 6_000;

export class MqttGatewayCore {
  readonly options: ResolvedMqttOptions;
  readonly broker: Broker;
  readonly authorizer: Authorizer;
  retained: RetainedStore;
  sessionStore: MqttSessionStore;
  readonly replies: ReplyBridge;
  readonly id = randomBytes(6).toString('hex');
  readonly sessions = new Map<string, Session>();
  readonly clients = new Set<MqttClient>();
  readonly stats: MqttGatewayStats = {
    connections: 0, totalConnections: 0, slowConsumers: 0, slowConsumerBytesDropped: 0, publisherStalls: 0, publishesIn: 0, deniedPublishes: 0, deniedSubscribes: 0, willsSent: 0,
    droppedQueueFull: 0, queuedInLog: 0, droppedExpired: 0, droppedTooLarge: 0, msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0,
  };
  private readonly wills = new DelayedWills((will, client) => this.sendWill(will, client), (clientId) => this.dropHandoverIfIdle(clientId));
  private readonly storesGiven: { retained: boolean; sessions: boolean };
  private readonly persistence: SessionPersistence;
  private readonly streams: StreamPublisher;
  /** Present with retainFromHeaders. */
  private readonly retainCapture: RetainCapture | null;
  readonly handover: SessionHandover;
  /** Keep alive [MQTT-3.1.2-24]: checked three times per limit, as a timer per connection did. */
  readonly keepAlive = new DeadlineSweeper<MqttClient>((c) => c.lastSeen, (c) => c.keepAliveExpired(), 3);
  /** CONNECT deadline (lastSeen is the accept time until CONNACK): checked ten times per limit. */
  readonly connectDeadline = new DeadlineSweeper<MqttClient>((c) => c.lastSeen, (c) => c.close(ReasonCode.MaximumConnectTime), 10);
  /** CONNECTs and session releases start a few per event-loop turn: a storm of them never holds up connected clients. */
  readonly pacer = new TurnPacer();
  private flushQueue: MqttClient[] = [];
  private nextSessionSerial = 1;
  private nextMsgSerial = 1;
  private readonly logLine: ((line: string) => void) | undefined;
  /** Connection events for the server log (mqtt-events.ts). */
  readonly events: MqttEvents | undefined;
  private readonly sessionHooks: SessionHooks;
  private readonly sessionLimits: SessionLimits;
  /** Sessions being released to the store (their final record is being saved), by client id. */
  private readonly releasing = new Map<string, Promise<void>>();
  private expirySweep: NodeJS.Timeout | null = null;
  /** The expiry sweep in progress, if any (stop() waits for it). */
  private sweeping: Promise<void> | null = null;
  /** Client ids whose CONNECT is taking their session over from the store or another gateway, with how many CONNECTs are. */
  private readonly adopting = new Map<string, number>();
  private readonly orphans: OrphanedSessions;
  /** Set while stop() waits for the last connection to close. */
  private noClientsLeft: (() => void) | null = null;

  constructor(options: MqttGatewayOptions) {
    this.options = resolveMqttOptions(options);
    this.broker = options.broker;
    this.authorizer = options.authorizer ?? new OpenAuthorizer();
    this.storesGiven = { retained: options.retainedStore !== undefined, sessions: options.sessionStore !== undefined };
    this.retained = options.retainedStore ?? new MemoryRetainedStore();
    this.sessionStore = options.sessionStore ?? new MemorySessionStore();
    this.replies = new ReplyBridge(this.broker, { ttlMs: this.options.replyTtlMs, maxPending: 100_000 });
    this.logLine = options.log;
    this.events = options.events;
    this.persistence = new SessionPersistence(() => this.sessionStore, this.broker, this.options.name, this.options.sessionSaveDelayMs, (...parts) => this.log(...parts));
    const persistence = this.persistence;
    this.sessionLimits = { maxQueued: this.options.maxQueued, maxQueuedBytes: this.options.maxQueuedBytes };
    this.sessionHooks = {
      // Only a held session is saved: one being restored (subscribed, live messages already
      // queueing, its record's in-flight and log positions still being read) saved as it is
      // would claim the log up to its floor with none of them, and a kill -9 before the
      // restore's own save lost them all (issue 29: 597 acknowledged messages in one run).
      changed: (s, soon) => {
        if (this.sessions.get(s.clientId) === s) persistence.changed(s, soon);
      },
      sawLogged: (seq) => persistence.sawLogged(seq),
      replyIsPubAck: (subject) => this.streams.capturesNow(subject),
      readLog: null, // set once open() knows whether the store has a message log
      overflowed: (s) =>
        this.log(`session ${JSON.stringify(s.clientId)} queue full (${s.queued.length} messages, ${s.queuedSize} bytes; max_queued_messages`,
          `${this.options.maxQueued}, max_queued_bytes ${this.options.maxQueuedBytes}): dropping QoS 1/2 messages until it drains to half`),
    };
    this.handover = new SessionHandover(this.broker, () => this.sessionStore.durable, (clientId, cleanStart) => this.release(clientId, cleanStart), this.id);
    this.retainCapture = this.options.retainFromHeaders ? new RetainCapture(this.broker, () => this.retained, (...parts) => this.log(...parts)) : null;
    this.streams = new StreamPublisher(this.broker, new JetStreamClient(this.broker, STREAM_PUBLISH_TIMEOUT_MS), { noLeaderRetryMs: NO_LEADER_RETRY_MS });
    // Once stop() began, every session counts as held: a sweep in progress ends without probing or deleting.
    this.orphans = new OrphanedSessions((clientId) => (this.holds(clientId) || this.expirySweep === null ? Promise.resolve(true) : this.handover.held(clientId)));
  }

  /** This gateway serves the session, is taking it over, or is saving it as it lets it go. */
  private holds(clientId: string): boolean {
    return this.sessions.has(clientId) || this.adopting.has(clientId) || this.releasing.has(clientId);
  }

  log(...parts: unknown[]): void {
    this.logLine?.(`mqtt: ${parts.map(String).join(' ')}`);
  }

  /**
   * Start: the reply bridge; with a message log, the view of every persistent
   * subscription (sessions stay in the store until their client connects);
   * otherwise every stored persistent session, restored detached and subscribed.
   */
  async open(): Promise<void> {
    if (this.options.persistence === 'jetstream') {
      const storage = { storage: this.options.jetStreamStorage };
      if (!this.storesGiven.retained) this.retained = await JetStreamRetainedStore.open(this.broker, storage);
      if (!this.storesGiven.sessions) this.sessionStore = await JetStreamSessionStore.open(this.broker, storage);
    }
    await this.replies.start();
    await this.retainCapture?.start(); // once the retained store is chosen
    await this.handover.start();
    await this.streams.start((...parts) => this.log(...parts));
    await this.persistence.open();
    if (this.persistence.logging) {
      this.sessionHooks.readLog = this.persistence.readLog;
      this.expirySweep = setInterval(() => {
        this.sweeping ??= this.sweepExpired().finally(() => (this.sweeping = null));
      }, this.options.expirySweepMs);
      this.expirySweep.unref();
      return;
    }
    for (const record of await this.sessionStore.list()) {
      if ((record.owner ?? this.options.name) === this.options.name) await this.restoreSession(record);
    }
  }

  /**
   * Sessions no gateway holds end when their expiry passes; any gateway may
   * delete them: detached ones, and ones whose gateway died (OrphanedSessions).
   */
  private async sweepExpired(): Promise<void> {
    try {
      // Detached sessions first: they need no probe, so probing held ones never delays them.
      await this.deleteUnheld(this.persistence.expired(Date.now()));
      await this.deleteUnheld(await this.orphans.expired(this.persistence.attached(), Date.now()));
    } catch (e) {
      this.log('session expiry sweep failed:', e);
    }
  }

  /** Delete these sessions from the store, but not one this gateway took meanwhile (checked right before each delete). */
  private async deleteUnheld(clientIds: readonly string[]): Promise<void> {
    for (const clientId of clientIds) {
      if (this.holds(clientId) || this.expirySweep === null) continue;
      await this.sessionStore.delete(clientId).catch((e: unknown) => this.log('session store delete failed:', e));
    }
  }

  /**
   * Before serving a CONNECT for a client id this gateway does not hold: take the
   * session over from whichever gateway holds it, then load it from the store
   * (or, on a clean start, forget the stored one).
   */
  async adopt(clientId: string, cleanStart: boolean): Promise<void> {
    await this.releasing.get(clientId);
    if (this.sessions.has(clientId) || !this.sessionStore.durable) return;
    // Counted: two CONNECTs for one id may overlap, and the first to finish must not clear the second.
    this.adopting.set(clientId, (this.adopting.get(clientId) ?? 0) + 1);
    try {
      await this.loadFromStore(clientId, cleanStart);
    } finally {
      const left = (this.adopting.get(clientId) ?? 1) - 1;
      if (left === 0) this.adopting.delete(clientId);
      else this.adopting.set(clientId, left);
    }
  }

  /**
   * A CONNECT whose connection closed while adopt() took its session over:
   * the session never got a connection, so it is let go as at a disconnect.
   * Otherwise it would stay held, subscribed and queueing, with nothing to end it.
   */
  connectAbandoned(clientId: string): void {
    const session = this.sessions.get(clientId);
    if (session === undefined || session.connection !== null) return;
    if (this.persistence.logging) this.releaseDetached(session);
    else if (session.expiryInterval === 0) this.endSession(session);
  }

  private async loadFromStore(clientId: string, cleanStart: boolean): Promise<void> {
    this.handover.drop(clientId); // a lingering listener here must not answer for the real holder
    if (cleanStart) return this.discardStored(clientId);
    // The store is read only when the watched view of the records may have one (a new session's CONNECT reads nothing).
    let record = this.persistence.mayBeStored(clientId) ? await this.sessionStore.load(clientId) : null;
    // A record saved as its session was let go, with no will delayed for it: no gateway holds
    // it, so nobody is asked. Otherwise ask; a request that times out (a NATS cluster may still
    // route it to a holder that just let go) is asked again after a fresh look at the record.
    for (let attempt = 1; record === null || record.disconnectedAt === null || record.willPending === true; attempt++) {
      const outcome = await this.handover.acquire(clientId, false);
      if (this.sessions.has(clientId)) return;
      // As the holder saved it; with no holder, only when a record is known.
      if (outcome !== 'nobody' || this.persistence.mayBeStored(clientId)) record = await this.sessionStore.load(clientId);
      if (outcome !== 'timeout' || attempt >= HANDOVER_ATTEMPTS) break;
    }
    if (record !== null && sessionExpiresAt(record) <= Date.now()) {
      await this.sessionStore.delete(clientId);
      record = null;
    }
    if (record !== null && !this.sessions.has(clientId)) {
      await this.restoreSession(record);
      await this.broker.flush(); // the subscriptions are in place before CONNACK
    }
  }

  /**
   * A clean start ends the session wherever it is [MQTT-3.1.2-4]: a holder lets
   * it go, and a stored record is deleted. The store is not read: a record is
   * deleted when a holder answered (it may have just saved one) or the watched
   * view of the records knows one, so a new clean session's CONNECT does not
   * touch JetStream (issue 20). A request that times out is asked again, as in
   * loadFromStore.
   */
  private async discardStored(clientId: string): Promise<void> {
    let outcome: 'released' | 'nobody' | 'timeout' = 'timeout';
    for (let attempt = 1; outcome === 'timeout' && attempt <= HANDOVER_ATTEMPTS; attempt++) {
      outcome = await this.handover.acquire(clientId, true);
      if (this.sessions.has(clientId)) return;
    }
    if (outcome !== 'nobody' || this.persistence.mayBeStored(clientId)) await this.sessionStore.delete(clientId);
  }

  /**
   * Another gateway takes `clientId` over: close, save and let the session go;
   * a will this gateway delays for it is cancelled, or sent on a clean start
   * [MQTT-3.1.3-9], as for a takeover here.
   */
  private async release(clientId: string, cleanStart: boolean): Promise<void> {
    const session = this.sessions.get(clientId);
    const client = session?.connection;
    if (client instanceof MqttClient) client.close(ReasonCode.SessionTakenOver, 'session taken over by another gateway');
    if (cleanStart) this.wills.fire(clientId);
    else this.wills.cancel(clientId);
    // Not held (released to the store, or ended with its connection): done once its record is saved.
    if (session === undefined || this.sessions.get(clientId) !== session) return this.releasing.get(clientId);
    await this.persistence.save(session);
    this.sessions.delete(clientId);
    this.handover.drop(clientId);
    this.persistence.forget(session);
    session.destroy();
  }

  /**
   * With a message log, a detached persistent session is not held: its record
   * is saved and its subscriptions end, and what is published for it meanwhile
   * is logged (any gateway can resume it). Runs at a later turn (paced: a
   * disconnect storm releases thousands), so a takeover on this gateway that
   * re-attaches the session meanwhile keeps it.
   */
  private releaseDetached(session: Session): void {
    this.pacer.defer(() => {
      const clientId = session.clientId;
      if (session.connection !== null || this.sessions.get(clientId) !== session) return;
      this.sessions.delete(clientId);
      this.persistence.forget(session);
      // The record is taken now, before the subscriptions end; it says whether a will is delayed here.
      const saved = this.persistence.save(session, this.wills.has(clientId));
      session.destroy();
      const done = saved.finally(() => {
        if (this.releasing.get(clientId) === done) this.releasing.delete(clientId);
        // Answer handovers until the record is saved, so a gateway taking over loads the final one.
        this.lingerHandover(clientId);
      });
      this.releasing.set(clientId, done);
    });
  }

  /**
   * Stop answering handovers for `clientId` once nothing here concerns it: no
   * session, no record being saved, no delayed will (a reconnect elsewhere cancels it).
   */
  private dropHandoverIfIdle(clientId: string): void {
    if (!this.sessions.has(clientId) && !this.releasing.has(clientId) && !this.wills.has(clientId)) this.handover.drop(clientId);
  }

  /**
   * Keep answering handovers for a session let go a little longer: a client
   * that reconnects at once to another gateway is answered at once, instead of
   * its request being routed by the NATS cluster to a subscription just removed.
   */
  private lingerHandover(clientId: string): void {
    setTimeout(() => this.dropHandoverIfIdle(clientId), HANDOVER_LINGER_MS).unref();
  }

  /** Put a session in the table; with a durable store, answer handovers for it. */
  holdSession(session: Session): void {
    this.sessions.set(session.clientId, session);
    this.handover.hold(session.clientId);
  }

  /**
   * Batch output: every client with something queued writes once at the end of
   * this event-loop turn, so a burst of deliveries and acks is one writev each.
   */
  scheduleFlush(client: MqttClient): void {
    this.flushQueue.push(client);
    if (this.flushQueue.length === 1) setImmediate(() => this.flushAll());
  }

  private flushAll(): void {
    const clients = this.flushQueue;
    this.flushQueue = [];
    for (const client of clients) client.flush();
  }

  /** Serve MQTT on any Connection (TCP socket, WebSocket, in-memory pair). */
  accept(connection: Connection): MqttClient {
    const client = new MqttClient(this, connection, this.options.connectionIds());
    this.clients.add(client);
    this.stats.totalConnections++; // the client leaves `clients` when its connection closes
    return client;
  }

  newSession(clientId: string): Session {
    return new Session(clientId, this.id, this.nextSessionSerial++, this.sessionLimits, this.stats, this.sessionHooks);
  }

  /** A new connection for `clientId`: the old one is taken over [MQTT-3.1.4-2]. */
  takeOver(clientId: string, cleanStart: boolean): void {
    const existing = this.sessions.get(clientId);
    const old = existing?.connection;
    if (old instanceof MqttClient) old.close(ReasonCode.SessionTakenOver, 'another connection used this client id');
    // A clean start ends the old session, so a delayed will goes now; otherwise
    // [MQTT-3.1.3-9] a new connection before the delay has passed means no will.
    if (cleanStart) this.wills.fire(clientId);
    else this.wills.cancel(clientId);
  }

  /** End a session for good: subscriptions, state and stored record. */
  endSession(session: Session): void {
    this.persistence.forget(session);
    session.destroy();
    if (this.sessions.get(session.clientId) === session) {
      this.sessions.delete(session.clientId);
      this.lingerHandover(session.clientId);
    }
    this.wills.fire(session.clientId); // the will waits at most until the session ends
    // A session that was never stored (a clean one) leaves no record to delete: no JetStream write per disconnect.
    if (this.persistence.mayBeStored(session.clientId)) {
      void this.sessionStore.delete(session.clientId).catch((e: unknown) => this.log('session store delete failed:', e));
    }
  }

  /**
   * The message log's last sequence, for a new subscription's record: undefined
   * without a log, and for a session that ends with its connection (it is never
   * restored from the log, so a SUBSCRIBE of a clean session asks JetStream nothing).
   */
  async logPosition(session: Session): Promise<number | undefined> {
    return this.persistence.logging && session.expiryInterval > 0 ? this.persistence.lastLogged() : undefined;
  }

  /** Save a persistent session's record now. */
  persist(session: Session): void {
    void this.persistence.save(session);
  }

  /**
   * Save at the end of this turn when in-flight state is persisted (null
   * otherwise), for a QoS 2 step that must survive a crash before the client
   * hears of it: a delivery's PUBREL, an inbound message's log append, its PUBCOMP.
   * Rejects with SessionSaveError when the store fails.
   */
  persistInflight(session: Session): Promise<void> | null {
    return this.persistence.logging && session.expiryInterval > 0 ? this.persistence.saveSoon(session) : null;
  }

  /** A fresh dedupe id for an inbound QoS 2 message's log append (unique across gateways and restarts). */
  nextMsgId(): string {
    return `${this.id}.${this.nextMsgSerial++}`;
  }

  /** A connected client's connection ended, for whatever reason. */
  clientClosed(client: MqttClient): void {
    this.stats.connections--;
    const session = client.session;
    client.session = null;
    if (session !== null && session.connection === client) {
      session.detach(Date.now());
      if (session.expiryInterval === 0) this.endSession(session);
      else if (this.persistence.logging) this.releaseDetached(session);
      else {
        this.scheduleExpiry(session);
        this.persist(session);
      }
    }
    const will = client.will;
    client.will = null;
    if (will !== null && !client.willDiscarded) {
      const expiry = session?.expiryInterval ?? 0;
      this.wills.schedule(client.clientId, will, Math.min(will.delay, expiry), client);
    }
  }

  /**
   * Publish an MQTT message into the broker (and the retained store); `msgId` is an
   * inbound QoS 2 message's dedupe id for its log append (see inbound-qos2.ts).
   * Precondition: the caller checked the publish permission on the mapped subject.
   */
  async publish(message: MqttMessage, msgId?: string): Promise<void> {
    this.stats.publishesIn++;
    const p = message.properties;
    const reply = p.responseTopic === undefined ? undefined : this.replies.replyFor(p.responseTopic, p.correlationData);
    let out = toBrokerPublish(message, reply);
    if (message.retain) {
      await this.retained.set(message); // [MQTT-3.3.1-5]
      // Stored: a retain capture (of this or another gateway) must not store it again, perhaps after a newer one.
      out = { ...out, headers: withHeader(out.headers, MqttHeader.RetainStored, '1') };
    }
    // A QoS 1/2 message a stream captures is acknowledged once the stream stored it. A request
    // (response topic) stays a plain publish: its reply subject belongs to the requester.
    let stored = message.qos > 0 && reply === undefined && this.streams.captures(out.subject);
    if (typeof stored !== 'boolean') stored = await stored;
    // The publisher's PUBACK/PUBREC waits until the message is logged for the persistent sessions that want it.
    await this.persistence.publish(message, out, stored ? this.publishToStream : this.publishToBroker, msgId);
  }

  /**
   * Resolves once the stream stored the message; rejects with StreamPublishError when it did not (or may not have).
   * The PubAck inbox is the reply subject: MQTT subscribers see no response topic on a stream's subject (Session.onBrokerMessage).
   */
  private readonly publishToStream = async (o: BrokerPublish): Promise<void> => {
    try {
      await this.streams.publish({ subject: o.subject, data: o.data, headers: o.headers ?? null }, true);
    } catch (error) {
      throw toStreamPublishError(o.subject, error);
    }
  };

  private readonly publishToBroker = (o: BrokerPublish): Promise<void> => this.broker.publish(o.subject, o.data, { reply: o.reply, headers: o.headers });

  /** Create the broker subscriptions behind one MQTT subscription (session-subscription.ts). Throws on an invalid filter. */
  subscribe(session: Session, record: SubscriptionRecord): Promise<SessionSubscription> {
    return subscribeSession(this.broker, session, record);
  }

  /** A client's connection closed (after clientClosed, if it was connected). */
  clientGone(client: MqttClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.noClientsLeft?.();
  }

  /** Set by lameDuck(): CONNECTs are refused with Server Unavailable. */
  lameDuckMode = false;

  /**
   * Lame duck: refuse new CONNECTs, wait `graceMs`, then close the connected
   * clients (v5 ones with DISCONNECT 0x8B) spread over the rest of `durationMs`.
   * Sessions stay as they are: stop() saves them afterwards.
   */
  async lameDuck(durationMs: number, graceMs: number): Promise<void> {
    this.lameDuckMode = true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(graceMs, durationMs)));
    await closeSpread([...this.clients], Math.max(0, durationMs - graceMs), (client) => client.close(ReasonCode.ServerShuttingDown, 'server shutting down'));
  }

  async stop(): Promise<void> {
    const allClosed = this.clients.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.noClientsLeft = resolve));
    for (const client of [...this.clients]) {
      client.close(ReasonCode.ServerShuttingDown, 'server shutting down');
      client.connection.destroy();
    }
    if (this.expirySweep !== null) clearInterval(this.expirySweep);
    this.expirySweep = null;
    await this.sweeping; // at most one delete still in flight
    // Every connection's close event has come (bounded: a transport that never reports one
    // must not hang stop), so no session starts being released after the flush below.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.noClientsLeft = null;
    this.pacer.drain(); // detached sessions waiting for their release
    await Promise.all(this.releasing.values());
    await this.persistence.flush();
    for (const session of this.sessions.values()) {
      if (session.expiryInterval > 0) await this.persistence.save(session);
      session.destroy();
    }
    this.persistence.stop();
    this.retainCapture?.stop();
    this.keepAlive.stop();
    this.connectDeadline.stop();
    this.streams.stop();
    this.sessions.clear();
    this.handover.stop();
    this.wills.clear();
    this.replies.stop();
  }

  /** End a detached session when its expiry interval (counted from the disconnect) has passed. */
  private scheduleExpiry(session: Session): void {
    if (session.expiryTimer !== null) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    if (session.expiryInterval >= NEVER_EXPIRES) return;
    const since = session.disconnectedAt === null ? 0 : Date.now() - session.disconnectedAt;
    const left = session.expiryInterval * 1000 - since;
    session.expiryTimer = setTimeout(() => {
      if (session.connection !== null) return;
      if (left > MAX_TIMER_MS) this.scheduleExpiry(session); // one step of a longer wait
      else this.endSession(session);
    }, Math.min(Math.max(0, left), MAX_TIMER_MS));
    session.expiryTimer.unref();
  }

  private sendWill(will: WillMessage, client: MqttClient): void {
    const principal = client.principal;
    const message = { ...will.message, receivedAt: Date.now() };
    try {
      // The will is published with the connection's permissions, like any publish.
      if (principal !== null && !principal.canPublish(toBrokerPublish(message, undefined).subject)) {
        this.stats.deniedPublishes++;
        return;
      }
    } catch {
      return;
    }
    this.stats.willsSent++;
    void this.publish(message).catch((e: unknown) => this.log('will publish failed:', e));
  }

  /**
   * Hold a stored session again: subscriptions first, so nothing published from
   * now on is missed; then what the record and the log hold for it, up to the
   * log's end as it is once the subscriptions are in place (later messages
   * arrive live; live copies of restored ones are dropped). Until it is held,
   * nothing saves it: its first record is the one taken at the end.
   */
  private async restoreSession(record: SessionRecord): Promise<void> {
    const session = this.newSession(record.clientId);
    session.expiryInterval = record.expiryInterval;
    session.disconnectedAt = record.disconnectedAt ?? Date.now();
    session.inboundQos2.restore(record.inboundQos2, record.inboundUnlogged);
    for (const sub of record.subscriptions) {
      try {
        session.addSubscription(await this.subscribe(session, sub));
      } catch (e) {
        this.log('could not restore subscription', sub.topicFilter, 'of', record.clientId, e);
      }
    }
    let read: Awaited<ReturnType<SessionPersistence['outboundOf']>>;
    try {
      await this.broker.flush();
      const upTo = await this.persistence.lastLogged();
      session.logFloor = upTo;
      // Only a first part of the log before CONNACK (a client's connect timeout is a few seconds); the rest is read as the queue drains.
      read = await this.persistence.outboundOf(record, upTo, BACKLOG_READ);
    } catch (e) {
      // Not held and never to be: its subscriptions would keep queueing live messages with nothing to end them.
      session.destroy();
      throw e;
    }
    session.restoreOutbound(read.outbound, read.backlog);
    this.holdSession(session);
    this.scheduleExpiry(session);
    void this.persistence.save(session); // with the current log cursor: what was scanned is now in the record
  }
}
