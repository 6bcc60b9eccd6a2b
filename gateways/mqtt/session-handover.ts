// Client-id takeover across gateway instances (cluster mode, durable store).
//
// A gateway receiving a CONNECT for a client id it does not hold asks
// `$MQTT.handover.<hash of client id>` first: the gateway holding the session
// closes its connection (v5: DISCONNECT 0x8E), saves the session record, lets
// the session go and answers "released"; the asker then loads the record. So
// exactly one gateway holds (and subscribes for) a session at a time. A
// gateway that let a session go keeps answering for it while it delays a will
// for it, so that a reconnect on another gateway cancels the will
// [MQTT-3.1.3-9]. A probe (`held`) is answered without letting the session go:
// the expiry sweep asks it to tell a session whose gateway died from one that
// is still served.
//
// "Nobody holds it" is not read from a no-responders answer: on a NATS cluster
// any MQTT `#` subscriber is a NATS `>` subscription, which nats-server counts
// as a responder for every subject (the gateway drops the request unseen), so
// every CONNECT would wait out the timeout. Instead every gateway answers every
// handover request, the holder "released" (or "held" to a probe) and the
// others "not here", and the asker knows the gateways: each one announces
// itself on `$MQTT.gateways` when it starts (the others answer with
// themselves), every HEARTBEAT_MS, and when it stops. "Nobody" is an answer
// from every gateway heard from lately; a gateway that died stops being waited
// for once it left two requests unanswered (a failover CONNECT waits two
// timeouts) or its heartbeats are missed.

import { createHash } from 'node:crypto';
import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';

export const HANDOVER_PREFIX = '$MQTT.handover.';
/** Where gateways announce themselves (hello, heartbeat, goodbye). */
export const GATEWAYS_SUBJECT = '$MQTT.gateways';

export function handoverSubject(clientId: string): string {
  return HANDOVER_PREFIX + subjectToken(clientId);
}

function subjectToken(clientId: string): string {
  return createHash('sha256').update(clientId).digest('base64url').slice(0, 32);
}

/** How often a gateway says it is alive; one silent for MISSED_HEARTBEATS of them is no longer waited for. */
const HEARTBEAT_MS = 2_000;
const MISSED_HEARTBEATS = 3;
/** Requests in a row a gateway may leave unanswered (each waits the timeout) before it counts as gone until heard from again. */
const MAX_UNANSWERED = 2;
/** After starting, how long a gateway waits for the others to answer its hello before it counts on its list of them. */
const HELLO_WAIT_MS = 250;

/** Request bodies (first byte). */
const TAKE = 0x2e; // '.'
const CLEAN_START = 0x31; // '1': the new connection starts clean (the holder then sends a delayed will at once)
const PROBE = 0x3f; // '?': is anyone holding this session?
/** Answers and announcements: one letter, a space, the gateway id. */
const RELEASED = 'R';
const HELD = 'H';
const NOT_HERE = 'N';
const HELLO = 'hello';
const ALIVE = 'alive';
const GOODBYE = 'bye';

const encoder = new TextEncoder();

function parseWords(m: BrokerMessage): [string, string] {
  const text = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8');
  const space = text.indexOf(' ');
  return space < 0 ? [text, ''] : [text.slice(0, space), text.slice(space + 1)];
}

export class SessionHandover {
  /** Sessions this gateway answers for, by subject token. */
  private readonly holding = new Map<string, string>();
  /** Other gateways by id: when each was last heard from, and how many requests in a row it left unanswered since. */
  private readonly peers = new Map<string, { seen: number; missed: number }>();
  private readonly subs: BrokerSubscription[] = [];
  private heartbeat: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private nextInbox = 1;

  /**
   * `release(clientId)`: close the local connection, save and drop the session.
   * `enabled`: false for a single-process (non-durable) store, where there is no one to hand over to.
   * `id`: this gateway's id, unique in the cluster.
   */
  constructor(
    private readonly broker: Broker,
    private readonly enabled: () => boolean,
    private readonly release: (clientId: string, cleanStart: boolean) => Promise<void>,
    private readonly id: string,
    private readonly timeoutMs = 1000,
  ) {}

  /** Answer handover requests and announce this gateway (when enabled). */
  async start(): Promise<void> {
    if (!this.enabled() || this.heartbeat !== null) return;
    this.subs.push(await this.broker.subscribe(`${HANDOVER_PREFIX}*`, (m) => this.onRequest(m)));
    this.subs.push(await this.broker.subscribe(GATEWAYS_SUBJECT, (m) => this.onAnnouncement(m)));
    const inbox = this.inbox();
    this.subs.push(await this.broker.subscribe(inbox, (m) => this.onAnnouncement(m)));
    this.startedAt = Date.now();
    await this.broker.publish(GATEWAYS_SUBJECT, encoder.encode(`${HELLO} ${this.id}`), { reply: inbox });
    this.heartbeat = setInterval(() => void this.announce(ALIVE).catch(() => {}), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** This gateway now holds `clientId`: answer handover requests for it. */
  hold(clientId: string): void {
    if (this.enabled()) this.holding.set(subjectToken(clientId), clientId);
  }

  /** This gateway no longer holds `clientId`. */
  drop(clientId: string): void {
    this.holding.delete(subjectToken(clientId));
  }

  /**
   * Ask whoever holds `clientId` to let it go: 'released' when the holder
   * answered, 'nobody' when every other gateway said it does not hold it (or
   * this gateway holds it itself), 'timeout' when some gateway did not answer
   * in time (one that just let it go may still be saving it, or one died: the
   * caller decides whether to ask again).
   */
  async acquire(clientId: string, cleanStart: boolean): Promise<'released' | 'nobody' | 'timeout'> {
    if (!this.enabled() || this.holding.has(subjectToken(clientId))) return 'nobody';
    const answer = await this.ask(clientId, cleanStart ? CLEAN_START : TAKE);
    return answer === 'answered' ? 'released' : answer;
  }

  /**
   * Whether some gateway (this one included) holds `clientId`. A probe that
   * gets no answer in time counts as held: a session is never dropped on doubt.
   */
  async held(clientId: string): Promise<boolean> {
    return this.holding.has(subjectToken(clientId)) || (await this.ask(clientId, PROBE)) !== 'nobody';
  }

  /** One request to every gateway on the client id's handover subject. */
  private async ask(clientId: string, body: number): Promise<'answered' | 'nobody' | 'timeout'> {
    // Just started: give the others a moment to answer the hello, or a holder could be missed.
    const sinceStart = Date.now() - this.startedAt;
    if (sinceStart < HELLO_WAIT_MS) await new Promise((resolve) => setTimeout(resolve, HELLO_WAIT_MS - sinceStart));
    const waiting = this.livePeers();
    if (waiting.size === 0) return 'nobody';
    const inbox = this.inbox();
    let settle!: (answer: 'answered' | 'nobody' | 'timeout') => void;
    const answered = new Promise<'answered' | 'nobody' | 'timeout'>((resolve) => (settle = resolve));
    const sub = await this.broker.subscribe(inbox, (m) => {
      const [word, from] = parseWords(m);
        const peer = this.peers.get(from);
      if (peer !== undefined) peer.missed = 0;
      if (word === RELEASED || word === HELD) settle('answered');
      else if (word === NOT_HERE && waiting.delete(from) && waiting.size === 0) settle('nobody');
    });
    const timer = setTimeout(() => settle('timeout'), this.timeoutMs);
    try {
      await this.broker.publish(handoverSubject(clientId), new Uint8Array([body]), { reply: inbox });
      const answer = await answered;
      // A gateway that killed -9 keeps its place until its heartbeats are missed; one that left
      // MAX_UNANSWERED requests in a row unanswered is not waited for again until it is heard from.
      if (answer === 'timeout') for (const id of waiting) this.unanswered(id);
      return answer;
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
  }

  private onRequest(m: BrokerMessage): void {
    const reply = m.reply;
    if (reply === null) return;
    const answer = (word: string): void => void this.broker.publish(reply, encoder.encode(`${word} ${this.id}`)).catch(() => {});
    const clientId = this.holding.get(m.subject.slice(HANDOVER_PREFIX.length));
    if (clientId === undefined) return answer(NOT_HERE);
    if (m.data[0] === PROBE) return answer(HELD);
    // Answered once the session is saved and let go, also when that failed (the asker loads what is stored).
    void this.release(clientId, m.data[0] === CLEAN_START).then(() => answer(RELEASED), () => answer(RELEASED));
  }

  private onAnnouncement(m: BrokerMessage): void {
    const [word, from] = parseWords(m);
    if (from === this.id || from === '') return;
    if (word === GOODBYE) {
      this.peers.delete(from);
      return;
    }
    this.peers.set(from, { seen: Date.now(), missed: 0 });
    // A new gateway: tell it about this one.
    if (word === HELLO && m.reply !== null) void this.broker.publish(m.reply, encoder.encode(`${ALIVE} ${this.id}`)).catch(() => {});
  }

  private livePeers(): Set<string> {
    const since = Date.now() - HEARTBEAT_MS * MISSED_HEARTBEATS;
    const live = new Set<string>();
    for (const [id, peer] of this.peers) {
      if (peer.seen >= since && peer.missed < MAX_UNANSWERED) live.add(id);
      else this.peers.delete(id);
    }
    return live;
  }

  private unanswered(id: string): void {
    const peer = this.peers.get(id);
    if (peer !== undefined) peer.missed++;
  }

  private announce(word: string): Promise<void> {
    return this.broker.publish(GATEWAYS_SUBJECT, encoder.encode(`${word} ${this.id}`));
  }

  private inbox(): string {
    return `_INBOX.mqtt-handover.${this.id}.${this.nextInbox++}`;
  }

  stop(): void {
    if (this.heartbeat !== null) {
      clearInterval(this.heartbeat);
      void this.announce(GOODBYE).catch(() => {});
    }
    this.heartbeat = null;
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.length = 0;
    this.holding.clear();
    this.peers.clear();
  }
}
