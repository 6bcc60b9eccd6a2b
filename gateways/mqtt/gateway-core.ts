// The MQTT gateway's shared state and the operations packet handlers call:
// sessions by client id (takeover, expiry, persistence), will messages, and
// the one path from an MQTT publish to the Broker port. Transport-free: the
// listener in gateway.ts feeds it Connections.

import { randomBytes } from 'node:crypto';
import { OpenAuthorizer, type Authorizer } from '../../core/auth/authorizer.ts';
import type { Broker } from '../../core/broker/broker.ts';
import type { Connection } from '../../core/server/connection.ts';
import { JetStreamRetainedStore, JetStreamSessionStore } from './jetstream-store.ts';
import { MemoryRetainedStore, MemorySessionStore } from './memory-store.ts';
import { toBrokerPublish, type MqttMessage } from './message.ts';
import { MqttClient, type WillMessage } from './mqtt-client.ts';
import { NEVER_EXPIRES, resolveMqttOptions, type MqttGatewayOptions, type ResolvedMqttOptions } from './options.ts';
import { ReasonCode } from './reason-codes.ts';
import { ReplyBridge } from './reply-bridge.ts';
import { SessionHandover } from './session-handover.ts';
import { SessionPersistence } from './session-persistence.ts';
import { Session, type SessionStats, type SessionSubscription } from './session.ts';
import type { MqttSessionStore, RetainedStore, SessionRecord, SubscriptionRecord } from './store.ts';
import { filterToSubjects, parseSharedFilter } from './topic-mapping.ts';

export interface MqttGatewayStats extends SessionStats {
  connections: number;
  totalConnections: number;
  slowConsumers: number;
  publishesIn: number;
  deniedPublishes: number;
  deniedSubscribes: number;
  willsSent: number;
}

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
    connections: 0, totalConnections: 0, slowConsumers: 0, publishesIn: 0, deniedPublishes: 0, deniedSubscribes: 0, willsSent: 0,
    droppedQueueFull: 0, droppedExpired: 0, droppedTooLarge: 0,
  };
  private readonly pendingWills = new Map<string, NodeJS.Timeout>();
  private readonly storesGiven: { retained: boolean; sessions: boolean };
  private readonly persistence: SessionPersistence;
  readonly handover: SessionHandover;
  private nextClientId = 1;
  private flushQueue: MqttClient[] = [];
  private nextSessionSerial = 1;
  private readonly logLine: ((line: string) => void) | undefined;

  constructor(options: MqttGatewayOptions) {
    this.options = resolveMqttOptions(options);
    this.broker = options.broker;
    this.authorizer = options.authorizer ?? new OpenAuthorizer();
    this.storesGiven = { retained: options.retainedStore !== undefined, sessions: options.sessionStore !== undefined };
    this.retained = options.retainedStore ?? new MemoryRetainedStore();
    this.sessionStore = options.sessionStore ?? new MemorySessionStore();
    this.replies = new ReplyBridge(this.broker, { ttlMs: this.options.replyTtlMs, maxPending: 100_000 });
    this.logLine = options.log;
    this.persistence = new SessionPersistence(() => this.sessionStore, this.options.name, this.options.sessionSaveDelayMs, (...parts) => this.log(...parts));
    this.handover = new SessionHandover(this.broker, () => this.sessionStore.durable, (clientId) => this.release(clientId));
  }

  log(...parts: unknown[]): void {
    this.logLine?.(`mqtt: ${parts.map(String).join(' ')}`);
  }

  /** Start: the reply bridge, and every stored persistent session (detached, subscribed). */
  async open(): Promise<void> {
    if (this.options.persistence === 'jetstream') {
      const storage = { storage: this.options.jetStreamStorage };
      if (!this.storesGiven.retained) this.retained = await JetStreamRetainedStore.open(this.broker, storage);
      if (!this.storesGiven.sessions) this.sessionStore = await JetStreamSessionStore.open(this.broker, storage);
    }
    await this.replies.start();
    await this.persistence.open();
    for (const record of await this.sessionStore.list()) {
      if ((record.owner ?? this.options.name) === this.options.name) await this.restoreSession(record);
    }
  }

  /**
   * Before serving a CONNECT for a client id this gateway does not hold: take the
   * session over from whichever gateway holds it, then load it from the store
   * (or, on a clean start, forget the stored one).
   */
  async adopt(clientId: string, cleanStart: boolean): Promise<void> {
    if (this.sessions.has(clientId) || !this.sessionStore.durable) return;
    await this.handover.acquire(clientId);
    if (this.sessions.has(clientId)) return;
    if (cleanStart) {
      await this.sessionStore.delete(clientId);
      return;
    }
    const record = await this.sessionStore.load(clientId);
    if (record !== null && !this.sessions.has(clientId)) {
      await this.restoreSession(record);
      await this.broker.flush(); // the subscriptions are in place before CONNACK
    }
  }

  /** Another gateway takes `clientId` over: close, save and let the session go. */
  private async release(clientId: string): Promise<void> {
    const session = this.sessions.get(clientId);
    if (session === undefined) return;
    const client = session.connection;
    if (client instanceof MqttClient) client.close(ReasonCode.SessionTakenOver, 'session taken over by another gateway');
    if (this.sessions.get(clientId) !== session) return; // it ended with its connection (expiry 0)
    await this.persistence.save(session);
    this.sessions.delete(clientId);
    this.handover.drop(clientId);
    this.cancelWill(clientId);
    session.destroy();
  }

  /** Put a session in the table; with a durable store, answer handovers for it. */
  holdSession(session: Session): void {
    this.sessions.set(session.clientId, session);
    void this.handover.hold(session.clientId).catch((e: unknown) => this.log('handover subscribe failed:', e));
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
    const client = new MqttClient(this, connection, this.nextClientId++);
    this.clients.add(client);
    this.stats.totalConnections++;
    connection.onClose(() => this.clients.delete(client));
    return client;
  }

  newSession(clientId: string): Session {
    return new Session(clientId, `${this.id}.${this.nextSessionSerial++}`, { maxQueued: this.options.maxQueued }, this.stats, (s, out) => this.persistence.queued(s, out));
  }

  /** A new connection for `clientId`: the old one is taken over [MQTT-3.1.4-2]. */
  takeOver(clientId: string, cleanStart: boolean): void {
    const existing = this.sessions.get(clientId);
    const old = existing?.connection;
    if (old instanceof MqttClient) old.close(ReasonCode.SessionTakenOver, 'another connection used this client id');
    // A clean start ends the old session, so a delayed will goes now; otherwise
    // [MQTT-3.1.3-9] a new connection before the delay has passed means no will.
    if (cleanStart) this.firePendingWill(clientId);
    else this.cancelWill(clientId);
  }

  /** End a session for good: subscriptions, state and stored record. */
  endSession(session: Session): void {
    session.destroy();
    if (this.sessions.get(session.clientId) === session) {
      this.sessions.delete(session.clientId);
      this.handover.drop(session.clientId);
    }
    this.firePendingWill(session.clientId); // the will waits at most until the session ends
    void this.sessionStore.delete(session.clientId).catch((e: unknown) => this.log('session store delete failed:', e));
  }

  /** Save a persistent session's record now. */
  persist(session: Session): void {
    void this.persistence.save(session);
  }

  /** A connected client's connection ended, for whatever reason. */
  clientClosed(client: MqttClient): void {
    this.stats.connections--;
    const session = client.session;
    client.session = null;
    if (session !== null && session.connection === client) {
      session.detach(Date.now());
      if (session.expiryInterval === 0) this.endSession(session);
      else {
        this.scheduleExpiry(session);
        this.persist(session);
      }
    }
    const will = client.will;
    client.will = null;
    if (will !== null && !client.willDiscarded) {
      const expiry = session?.expiryInterval ?? 0;
      this.scheduleWill(client.clientId, will, Math.min(will.delay, expiry), client);
    }
  }

  /**
   * Publish an MQTT message into the broker (and the retained store).
   * Precondition: the caller checked the publish permission on the mapped subject.
   */
  async publish(message: MqttMessage): Promise<void> {
    this.stats.publishesIn++;
    const p = message.properties;
    const reply = p.responseTopic === undefined ? undefined : this.replies.replyFor(p.responseTopic, p.correlationData);
    const out = toBrokerPublish(message, reply);
    if (message.retain) await this.retained.set(message); // [MQTT-3.3.1-5]
    // The publisher's PUBACK/PUBREC waits until the message is stored for offline sessions that queued it.
    await this.persistence.publishing(message, () => this.broker.publish(out.subject, out.data, { reply: out.reply, headers: out.headers }));
  }

  /** Create the broker subscriptions behind one MQTT subscription. Throws on an invalid filter. */
  async subscribe(session: Session, record: SubscriptionRecord): Promise<SessionSubscription> {
    const shared = parseSharedFilter(record.topicFilter);
    const filter = shared?.filter ?? record.topicFilter;
    const sub: SessionSubscription = { ...record, filter, group: shared?.group ?? null, brokerSubs: [] };
    try {
      for (const subject of filterToSubjects(filter)) {
        const options = sub.group === null ? {} : { queue: sub.group };
        sub.brokerSubs.push(await this.broker.subscribe(subject, (m) => session.onBrokerMessage(sub, m), options));
      }
    } catch (error) {
      for (const b of sub.brokerSubs) b.unsubscribe();
      throw error;
    }
    return sub;
  }

  async stop(): Promise<void> {
    for (const client of [...this.clients]) {
      client.close(ReasonCode.ServerShuttingDown, 'server shutting down');
      client.connection.destroy();
    }
    await this.persistence.flush();
    this.persistence.stop();
    for (const session of this.sessions.values()) {
      if (session.expiryInterval > 0) await this.persistence.save(session);
      session.destroy();
    }
    this.sessions.clear();
    this.handover.stop();
    for (const timer of this.pendingWills.values()) clearTimeout(timer);
    this.pendingWills.clear();
    this.replies.stop();
  }

  /** End a detached session when its expiry interval (counted from the disconnect) has passed. */
  private scheduleExpiry(session: Session): void {
    if (session.expiryTimer !== null) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    if (session.expiryInterval >= NEVER_EXPIRES) return;
    const since = session.disconnectedAt === null ? 0 : Date.now() - session.disconnectedAt;
    session.expiryTimer = setTimeout(() => {
      if (session.connection === null) this.endSession(session);
    }, Math.max(0, session.expiryInterval * 1000 - since));
    session.expiryTimer.unref();
  }

  private wills = new Map<string, { will: WillMessage; client: MqttClient }>();

  private scheduleWill(clientId: string, will: WillMessage, delaySeconds: number, client: MqttClient): void {
    if (delaySeconds <= 0) {
      this.sendWill(will, client);
      return;
    }
    // MQTT 5 §3.1.3.2.2: publish after the Will Delay Interval or when the session ends.
    this.cancelWill(clientId);
    this.wills.set(clientId, { will, client });
    const timer = setTimeout(() => this.firePendingWill(clientId), delaySeconds * 1000);
    timer.unref();
    this.pendingWills.set(clientId, timer);
  }

  private firePendingWill(clientId: string): void {
    const pending = this.wills.get(clientId);
    this.cancelWill(clientId);
    if (pending !== undefined) this.sendWill(pending.will, pending.client);
  }

  private cancelWill(clientId: string): void {
    const timer = this.pendingWills.get(clientId);
    if (timer !== undefined) clearTimeout(timer);
    this.pendingWills.delete(clientId);
    this.wills.delete(clientId);
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

  private async restoreSession(record: SessionRecord): Promise<void> {
    const session = this.newSession(record.clientId);
    session.expiryInterval = record.expiryInterval;
    session.disconnectedAt = record.disconnectedAt ?? Date.now();
    for (const id of record.inboundQos2) session.inboundQos2.add(id);
    session.restoreOutbound(await this.persistence.outboundOf(record));
    for (const sub of record.subscriptions) {
      try {
        session.addSubscription(await this.subscribe(session, sub));
      } catch (e) {
        this.log('could not restore subscription', sub.topicFilter, 'of', record.clientId, e);
      }
    }
    this.holdSession(session);
    this.scheduleExpiry(session);
    void this.persistence.save(session); // with the current log cursor: what was scanned is now in the record
  }
}
