// One leafnode link, either side of it (nats-server's LEAF client kind). After
// the handshake both sides behave alike: each tells the other its interest
// (LS+/LS-), forwards the messages the other has interest in (LMSG/LHMSG),
// and keeps the link alive with PING/PONG. The other side's interest lives in
// the router as subscriptions owned by this link, so local publishes reach it
// like any subscriber; what arrives is published into the router with this
// link as origin, so it is never sent back.
//
// Keepalive never waits behind much data (issue 23: leaf links that loop
// reconnecting on slow links because heartbeats wait behind data). PING,
// PONG and LS+/LS- are written ahead of queued messages; and the messages in
// flight are bounded by PING/PONG itself: a PING follows every PING_EVERY
// bytes of messages, and no more than WINDOW bytes are handed to the socket
// beyond the last PING the other side answered (it answers in order, so a
// PONG acknowledges everything written before its PING). So at most WINDOW
// bytes, wherever they wait (our socket, the kernel's buffers, a relay), are
// ever in front of a PING, and a slow link that drains answers a PING every
// PING_EVERY bytes. A link is stale only when nothing at all arrived for more
// than max_pings_out ping intervals while a PING was outstanding.

import type { Connection } from '../connection/connection.ts';
import type { Router } from '../server/router.ts';
import { Subscription, type Subscriber } from '../server/subscription.ts';
import { isValidPublishSubject, isValidSubscriptionSubject } from '../subject/subject.ts';
import { LeafInterest } from './leaf-interest.ts';
import { LeafParser, LeafProtocolError, type LeafOpHandler } from './leaf-parser.ts';
import { ackSubjectIndex, encodeError, encodeMsgLine, interestDenied, LOOP_DETECTION_PREFIX, messageDenied, type LeafConnect, type LeafInfo } from './leaf-wire.ts';

const CRLF = Buffer.from('\r\n');
/** Bytes of messages handed to the socket before waiting for it to drain. */
const SOCKET_BUDGET = 64 * 1024;
/** A PING after every this many bytes of messages. */
const PING_EVERY = 64 * 1024;
/** Message bytes written beyond the last answered PING. */
const WINDOW = 512 * 1024;
const PING = Buffer.from('PING\r\n');

export interface LeafLinkOptions {
  pingIntervalMs: number;
  maxPingsOut: number;
  /** Queued message bytes before the link is cut as a slow consumer. */
  maxPending: number;
  maxPayload: number;
  maxControlLine: number;
}

/** What a link needs from the leafnode manager that owns it. */
export interface LeafLinkHost {
  readonly router: Router;
  /** This server's loop detection subject (`$LDS.<unique>`). */
  readonly loopSubject: string;
  /** Subjects whose interest and messages never cross (both directions). */
  readonly deny: readonly string[];
  /** Subjects this side never sends (its own JetStream domain's API). */
  readonly denyOut: readonly string[];
  linkUp(link: LeafConnection): void;
  linkClosed(link: LeafConnection, reason: string): void;
  /** Every link this server has, for the rule that a spoke forwards only local interest. */
  isSolicitedLink(subscriber: Subscriber): boolean;
}

export const LeafCloseReason = {
  ClientClosed: 'Client Closed',
  ServerShutdown: 'Server Shutdown',
  ProtocolError: 'Protocol Violation',
  AuthenticationViolation: 'Authentication Failure',
  AuthenticationTimeout: 'Authentication Timeout',
  StaleConnection: 'Stale Connection',
  SlowConsumer: 'Slow Consumer (Pending Bytes)',
  LoopDetected: 'Loop Detected',
  RemoteError: 'Remote Error',
  Duplicate: 'Duplicate Remote Leafnode Connection',
} as const;

interface PendingMessage {
  round: number;
  subject: string;
  reply: string | null;
  headerSize: number;
  message: Buffer;
  queues: string[];
}

export class LeafConnection implements Subscriber, LeafOpHandler {
  readonly echo = false;
  readonly startedAt = new Date();
  readonly stats = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0 };
  /** The other side's name, id and JetStream domain, from its INFO or CONNECT. */
  remote: { name: string; id: string; domain?: string; jetstream: boolean } = { name: '', id: '', jetstream: false };
  rttMs = -1;
  closeReason: string | null = null;
  /** Hub side: judges the leaf's CONNECT; null = admitted, otherwise the -ERR text. */
  admit: ((connect: LeafConnect) => Promise<string | null> | string | null) | null = null;

  private readonly parser: LeafParser;
  private readonly remoteSubs = new Map<string, Subscription>();
  private readonly interest: LeafInterest;
  private active = false;
  private control: Buffer[] = [];
  /** Queued messages, three chunks each (line, payload, CRLF), from dataHead on. */
  private data: Buffer[] = [];
  private dataHead = 0;
  private dataBytes = 0;
  /**
   * Messages delivered here this turn, not encoded yet: a later delivery of the same
   * message (another subscription of this link) only adds its queue group. Usually
   * one; more when a receiver publishes while a message is routed (an in-process
   * responder), so the outer message's deliveries here are not consecutive.
   */
  private held: PendingMessage[] = [];
  private flushScheduled = false;
  /** Each PING not answered yet: when it went out, and the message bytes written before it. */
  private pings: Array<{ at: number; written: number }> = [];
  /** Message bytes handed to the socket; of those, acknowledged by a PONG; since the last PING. */
  private written = 0;
  private acked = 0;
  private sincePing = 0;
  /** Ping ticks in a row with nothing received while a PING was outstanding. */
  private silentTicks = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  /** Did bytes arrive since the last ping tick? */
  private heard = false;
  private stopObserving: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly connection: Connection,
    readonly solicited: boolean,
    private readonly host: LeafLinkHost,
    private readonly options: LeafLinkOptions,
  ) {
    this.parser = new LeafParser(this, options);
    this.interest = new LeafInterest((sub) => this.forwards(sub));
  }

  get isClosed(): boolean {
    return this.closeReason !== null;
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Subscriptions the other side holds here. */
  get subscriptionCount(): number {
    return this.remoteSubs.size;
  }

  /** Message bytes queued here, not handed to the socket yet (the link's backlog). */
  get pendingBytes(): number {
    return this.dataBytes;
  }

  /** Message bytes written but not yet acknowledged by a PONG (in flight on the link). */
  get inFlightBytes(): number {
    return this.written - this.acked;
  }

  get remoteSubjects(): string[] {
    return [...this.remoteSubs.keys()];
  }

  /** Start reading; `first` is what the handshake read past the INFO line (leaf side). */
  start(first?: Buffer): void {
    this.connection.onData((chunk) => this.receive(chunk));
    this.connection.onDrain(() => this.flush());
    this.connection.onClose(() => this.close(LeafCloseReason.ClientClosed));
    this.pingTimer = setInterval(() => this.pingTick(), this.options.pingIntervalMs);
    this.pingTimer.unref();
    if (first !== undefined && first.length > 0) this.receive(first);
    // The leaf side's handshake paused the socket after INFO so nothing was read before this.
    this.connection.resumeReading?.();
  }

  /** Write a handshake line (INFO or CONNECT) ahead of anything else. */
  sendLine(line: string): void {
    this.control.push(Buffer.from(line));
    this.scheduleFlush();
  }

  /** The handshake is done: exchange interest (nats-server initLeafNodeSmapAndSendSubs) and measure the round trip. */
  activate(): void {
    if (this.active || this.isClosed) return;
    this.active = true;
    const lines = this.interest.initial(this.host.router.sublist.all());
    if (lines !== '') this.control.push(Buffer.from(lines));
    this.stopObserving = this.host.router.observe((sub, added) => this.interestChanged(sub, added));
    this.sendPing();
    this.host.linkUp(this);
  }

  private receive(chunk: Buffer): void {
    if (this.isClosed) return;
    this.heard = true;
    this.parser.parse(chunk);
  }

  // ---- LeafOpHandler ----

  onInfo(json: string): void {
    // The hub's later INFOs (permissions, URL updates) change nothing here.
    if (this.remote.id !== '') return;
    try {
      const info = JSON.parse(json) as LeafInfo;
      this.remote = { name: info.server_name ?? info.server_id, id: info.server_id, domain: info.domain || undefined, jetstream: info.jetstream === true };
    } catch (cause) {
      this.onParseError(new LeafProtocolError('INFO is not valid JSON', { cause }));
    }
  }

  onConnect(json: string): void {
    if (this.solicited || this.active || this.admit === null) return this.fail('unexpected CONNECT', LeafCloseReason.ProtocolError);
    let connect: LeafConnect;
    try {
      connect = JSON.parse(json) as LeafConnect;
    } catch {
      return this.fail('Parser Error', LeafCloseReason.ProtocolError);
    }
    this.remote = { name: connect.name ?? connect.server_id ?? '', id: connect.server_id ?? '', domain: connect.domain || undefined, jetstream: connect.jetstream === true };
    const check = this.admit;
    this.admit = null;
    // What the leaf sent after CONNECT (its LS+ first of all) waits until it is admitted.
    this.parser.pause();
    void Promise.resolve(check(connect)).then((refusal) => {
      if (this.isClosed) return;
      if (refusal !== null) return this.fail(refusal, LeafCloseReason.AuthenticationViolation);
      this.activate();
      this.parser.resume();
    });
  }

  onPing(): void {
    this.control.push(Buffer.from('PONG\r\n'));
    this.scheduleFlush();
  }

  onPong(): void {
    const ping = this.pings.shift();
    if (ping === undefined) return;
    this.rttMs = Date.now() - ping.at;
    this.acked = ping.written;
    if (this.dataHead < this.data.length) this.scheduleFlush();
  }

  onError(text: string): void {
    if (/loop detected/i.test(text)) this.close(LeafCloseReason.LoopDetected, text);
    else this.close(LeafCloseReason.RemoteError, text);
  }

  onSub(subject: string, queue: string | null, weight: number): void {
    if (!this.active) return this.fail('Authorization Violation', LeafCloseReason.ProtocolError);
    if (subject === this.host.loopSubject) {
      // nats-server handleLeafNodeLoop: our own loop subject came back to us.
      return this.fail(`Loop detected for leafnode account="$G". Delaying attempt to reconnect for 30s`, LeafCloseReason.LoopDetected);
    }
    if (!isValidSubscriptionSubject(subject) || interestDenied(subject, this.host.deny)) return;
    const key = queue === null ? subject : `${subject} ${queue}`;
    const existing = this.remoteSubs.get(key);
    if (existing !== undefined) return; // a queue weight update: members are picked without weights here
    const sub = new Subscription(this, subject, queue, key);
    sub.remote = true;
    this.remoteSubs.set(key, sub);
    this.host.router.subscribe(sub);
  }

  onUnsub(subject: string, queue: string | null): void {
    const key = queue === null ? subject : `${subject} ${queue}`;
    const sub = this.remoteSubs.get(key);
    if (sub === undefined) return;
    this.remoteSubs.delete(key);
    this.host.router.unsubscribe(sub);
  }

  onMsg(subject: string, reply: string | null, queues: readonly string[], headerSize: number, message: Buffer): void {
    if (!this.active) return;
    this.stats.inMsgs++;
    this.stats.inBytes += message.length;
    if (!isValidPublishSubject(subject) || messageDenied(subject, this.host.deny)) return;
    const at = reply === null ? -1 : ackSubjectIndex(reply);
    if (at < 0) return void this.host.router.publish(subject, reply, headerSize, message, this, queues);
    // A JetStream push message: routed by its deliver subject, shown under its stored one.
    const router = this.host.router;
    router.stats.inMsgs++;
    router.stats.inBytes += message.length;
    router.deliverAs(subject, (reply as string).slice(at + 1), (reply as string).slice(0, at), headerSize, message, this, queues);
  }

  onParseError(error: LeafProtocolError): void {
    this.fail('Parser Error', LeafCloseReason.ProtocolError, error.detail);
  }

  // ---- Subscriber ----

  deliver(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    if (this.isClosed || messageDenied(subject, this.host.denyOut)) return;
    const router = this.host.router;
    const round = router.round;
    const held = this.held;
    // One message matching both a plain and a queue subscription of this link goes out once, naming the group.
    // Rounds are handed out in order, so entries of earlier messages (lower rounds) end the search.
    for (let k = held.length - 1; k >= 0 && held[k].round >= round; k--) {
      const p = held[k];
      if (p.round !== round || p.message !== message) continue;
      if (sub.queue !== null && !p.queues.includes(sub.queue)) p.queues.push(sub.queue);
      return;
    }
    const routed = router.routedBy;
    // Shown under another subject than it was routed by (a JetStream push message): send the routed one, the shown one after '@'.
    const wire = routed === subject || reply === null ? { subject, reply } : { subject: routed, reply: `${reply}@${subject}` };
    held.push({ round, subject: wire.subject, reply: wire.reply, headerSize, message, queues: sub.queue === null ? [] : [sub.queue] });
    this.scheduleFlush();
  }

  subscriptionEnded(sub: Subscription): void {
    this.remoteSubs.delete(sub.sid);
  }

  /** Local interest changed: tell the other side (LS+/LS-) when it changes what it knows. */
  private interestChanged(sub: Subscription, added: boolean): void {
    if (this.isClosed) return;
    const line = this.interest.change(sub, added);
    if (line === '') return;
    this.control.push(Buffer.from(line));
    this.scheduleFlush();
  }

  /**
   * Does this link forward `sub`'s interest? Not the other side's own, not a
   * denied subject, and on the leaf side (solicited) only local interest, not
   * what other hubs asked for (nats-server updateSmap; `$LDS.` always passes).
   */
  private forwards(sub: Subscription): boolean {
    if (sub.owner === this) return false;
    if (sub.subject.startsWith(LOOP_DETECTION_PREFIX)) return true;
    if (interestDenied(sub.subject, this.host.deny)) return false;
    return !(this.solicited && this.host.isSolicitedLink(sub.owner));
  }

  /** The held messages become LMSG/HMSG lines, in the order they came. */
  private encodeHeld(): void {
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    for (const p of held) {
      this.data.push(Buffer.from(encodeMsgLine(p.subject, p.reply, p.queues, p.headerSize, p.message.length)), p.message, CRLF);
      this.dataBytes += p.message.length;
      this.stats.outMsgs++;
      this.stats.outBytes += p.message.length;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Control lines first, then messages while the socket holds less than SOCKET_BUDGET and the window allows. */
  private flush(): void {
    if (this.isClosed) return;
    this.encodeHeld();
    if (this.dataBytes > this.options.maxPending) {
      this.fail('Slow Consumer', LeafCloseReason.SlowConsumer);
      return;
    }
    const out = this.control;
    this.control = [];
    let budget = SOCKET_BUDGET - this.connection.writableLength;
    let taken = this.dataHead;
    while (taken < this.data.length && budget > 0 && this.written - this.acked < WINDOW) {
      // A message is three chunks (line, payload, CRLF): hand them over together.
      let bytes = 0;
      for (let k = 0; k < 3; k++) {
        const chunk = this.data[taken++];
        out.push(chunk);
        bytes += chunk.length;
        if (k === 1) this.dataBytes -= chunk.length;
      }
      budget -= bytes;
      this.written += bytes;
      this.sincePing += bytes;
      if (this.sincePing >= PING_EVERY) {
        out.push(PING);
        this.notePing();
      }
    }
    // Advance a head index rather than slicing: a long queue drained a window at a time would be copied over and over.
    this.dataHead = taken;
    if (taken === this.data.length) {
      this.data = [];
      this.dataHead = 0;
    } else if (taken > 3072 && taken * 2 > this.data.length) {
      this.data = this.data.slice(taken);
      this.dataHead = 0;
    }
    if (out.length > 0) this.connection.write(out);
  }

  /** A keepalive PING, ahead of queued messages (so after those already written). */
  private sendPing(): void {
    this.control.push(PING);
    this.notePing();
    this.scheduleFlush();
  }

  private notePing(): void {
    this.pings.push({ at: Date.now(), written: this.written });
    this.sincePing = 0;
  }

  private pingTick(): void {
    const heard = this.heard;
    this.heard = false;
    this.silentTicks = heard || this.pings.length === 0 ? 0 : this.silentTicks + 1;
    if (this.silentTicks > this.options.maxPingsOut) {
      this.fail('Stale Connection', LeafCloseReason.StaleConnection);
      return;
    }
    if (this.pings.length === 0) this.sendPing();
  }

  private fail(text: string, reason: string, detail?: string): void {
    if (this.isClosed) return;
    this.control.push(Buffer.from(encodeError(text)));
    this.data = [];
    this.dataHead = 0;
    this.dataBytes = 0;
    this.held = [];
    this.flush();
    this.close(reason, detail ?? text);
  }

  /** Close the link; the other side's subscriptions leave the router. */
  close(reason: string, detail?: string): void {
    if (this.isClosed) return;
    this.closeReason = detail === undefined ? reason : `${reason}: ${detail}`;
    this.active = false;
    this.parser.halt();
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.stopObserving?.();
    for (const sub of this.remoteSubs.values()) this.host.router.unsubscribe(sub);
    this.remoteSubs.clear();
    this.connection.end();
    this.host.linkClosed(this, this.closeReason);
  }
}
