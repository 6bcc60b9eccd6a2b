// One MQTT network connection over any Connection (TCP, WebSocket, in-memory):
// frames and decodes packets, hands each to its handler in order, encodes and
// batches what goes out, enforces keep-alive and the connect deadline, and ends
// with a v5 DISCONNECT carrying a reason code when the server closes it.

import mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet, QoS } from 'mqtt-packet';
import type { Principal, PrincipalListener } from '../../core/auth/authorizer.ts';
import { attachOwner, type Connection, type ConnectionOwner } from '../../core/connection/connection.ts';
import { encodeAck, encodePublish } from './fast-codec.ts';
import { FrameReader } from './frame-reader.ts';
import { dispatchPacket } from './handlers/dispatch.ts';
import { dropUnauthorizedSubscriptions } from './handlers/subscribe.ts';
import { hasWireProperties, remainingExpiry, type MqttMessage } from './message.ts';
import type { OutboundTopicAliases } from './outbound-topic-aliases.ts';
import { MqttProtocolError, ReasonCode } from './reason-codes.ts';
import type { Outbound, Session, SessionConnection } from './session.ts';
import type { MqttGatewayCore } from './gateway-core.ts';

// mqtt-packet's generator otherwise builds a cache of 65,536 two-byte Buffers on first use
// (6 MiB of heap for the process, measured with heap snapshots, issue 20); the packets it
// still writes (CONNACK, SUBACK, packets with properties) are rare next to the hand-written ones.
mqttPacket.writeToStream.cacheNumbers = false;

export interface WillMessage {
  readonly message: MqttMessage;
  /** MQTT 5 Will Delay Interval, seconds. */
  readonly delay: number;
}

export type ClientState = 'connecting' | 'connected' | 'closed';

/**
 * Unread input allowed while a handler works, beyond two maximum packets (a
 * paused transport may still hand over what it already received: one socket
 * read, which over WebSocket can complete a message), for a transport that
 * cannot pause reading at all.
 */
const UNREAD_SLACK_BYTES = 64 * 1024;

/** Per-connection traffic, as /connz reports it: PUBLISH packets and their payload bytes. */
export interface MqttClientStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
}

/** An acknowledgement with success and no properties: four bytes in either version. */
function isPlainAck(p: Packet): p is Packet & { cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' } {
  if (p.cmd !== 'puback' && p.cmd !== 'pubrec' && p.cmd !== 'pubrel' && p.cmd !== 'pubcomp') return false;
  return (p.reasonCode === undefined || p.reasonCode === 0) && p.properties === undefined;
}

interface AckSlot {
  ready: boolean;
  packet: Packet | null;
  /** A QoS 1 publish: counted in `unackedQos1` until its PUBACK goes out. */
  readonly qos1: boolean;
}

/**
 * Flow control between an MQTT publisher and the connections its messages go
 * to (issue 20; CONVENTIONS 9), as the NATS side does (core/server/nats-client.ts):
 * a destination past half of max_pending_bytes stalls the publisher (its
 * packets wait unread, reading paused) until it drained back to half, so a
 * subscriber that keeps reading, however unevenly, loses no QoS 0 message.
 * The stall is looked at again every STALL_MIN_MS (just past half) to
 * STALL_MAX_MS (at the limit). A destination whose socket took no byte for
 * STUCK_MS is not reading: it stalls no one any more and goes on to its write
 * deadline or limit, where it is cut off, counted in slowConsumers with the
 * bytes it had pending; so a stuck subscriber holds a publisher up for about
 * STUCK_MS, once.
 */
const STALL_MIN_MS = 2;
const STALL_MAX_MS = 50;
const STUCK_MS = 500;
/**
 * The last destination that went past half its limit while the current
 * packet was handled (routing is synchronous); read by the publisher right
 * after, so no callback per message is needed.
 */
let stalledDestination: MqttClient | null = null;

/** One-entry cache: the last QoS 0 frame, keyed by payload identity, topic, retain and version. */
let lastFrame: { payload: Buffer; topic: string; retain: boolean; version: 4 | 5; bytes: Buffer } | null = null;

function cachedQos0Frame(m: MqttMessage, retain: boolean, version: 4 | 5): Buffer {
  const c = lastFrame;
  if (c !== null && c.payload === m.payload && c.topic === m.topic && c.retain === retain && c.version === version) return c.bytes;
  const bytes = encodePublish(m.topic, m.payload, 0, retain, false, 0, version);
  lastFrame = { payload: m.payload, topic: m.topic, retain, version, bytes };
  return bytes;
}

/** The PUBLISH for mqtt-packet's encoder, with the v5 properties the message carries. */
function publishPacket(out: Outbound, dup: boolean, v5: boolean): IPublishPacket {
  const m = out.message;
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: m.topic,
    payload: m.payload,
    qos: out.qos as QoS,
    retain: out.retain,
    dup: dup && out.qos > 0, // [MQTT-3.3.1-2] DUP is 0 for QoS 0
  };
  if (out.qos > 0) packet.messageId = out.packetId;
  if (v5) {
    const p = m.properties;
    const props: NonNullable<IPublishPacket['properties']> = {};
    if (p.payloadFormatIndicator) props.payloadFormatIndicator = true;
    const left = remainingExpiry(m, Date.now());
    if (left !== null) props.messageExpiryInterval = Math.max(1, left); // [MQTT-3.3.2-6]
    if (p.contentType !== undefined) props.contentType = p.contentType;
    if (p.responseTopic !== undefined) props.responseTopic = p.responseTopic;
    if (p.correlationData !== undefined) props.correlationData = p.correlationData;
    if (p.userProperties !== undefined) props.userProperties = p.userProperties;
    if (out.subscriptionIds !== undefined) props.subscriptionIdentifier = out.subscriptionIds.length === 1 ? out.subscriptionIds[0] : out.subscriptionIds;
    packet.properties = props;
  }
  return packet;
}

export class MqttClient implements SessionConnection, PrincipalListener, ConnectionOwner {
  state: ClientState = 'connecting';
  readonly startedAt = Date.now();
  readonly stats: MqttClientStats = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0 };
  /** Keep alive in force (seconds, after the server's cap) and the CONNECT's clean flag, once connected. */
  keepAlive = 0;
  cleanStart = true;
  protocolVersion: 4 | 5 = 4;
  clientId = '';
  session: Session | null = null;
  /** Set by CONNECT through adopt(). */
  principal: Principal | null = null;
  will: WillMessage | null = null;
  /** Why the connection ends, for the log: set by whoever closes it first. */
  closeReason: string | null = null;
  /** Set by a normal DISCONNECT: the will is discarded [MQTT-3.1.2-10]. */
  willDiscarded = false;
  receiveMaximum = 65535;
  /** The client's Maximum Packet Size: larger packets are never sent to it [MQTT-3.1.2-24]. */
  clientMaxPacketSize = Number.MAX_SAFE_INTEGER;
  /** Inbound topic aliases (MQTT 5 §3.3.2.3.4); created on first use (most clients never alias). */
  topicAliases: Map<number, string> | null = null;
  /** Outbound topic aliases, for a v5 client that announced a Topic Alias Maximum (set by CONNECT) [MQTT-3.1.2-27]. */
  outboundAliases: OutboundTopicAliases | null = null;
  // Per-connection state is kept small (issue 20: memory per idle connection):
  // arrays are made on first use, and deadlines are watched by the gateway's
  // DeadlineSweepers instead of a timer per connection.
  /** QoS 1/2 acknowledgements in arrival order; each is sent once it and all before it are ready. */
  private acks: AckSlot[] | null = null;
  /** Inbound QoS 1 publishes whose PUBACK has not gone out (with unreleased QoS 2 ids: against Receive Maximum). */
  unackedQos1 = 0;
  /**
   * A handler that is still working (CONNECT, SUBSCRIBE): later packets wait
   * behind it as unread bytes, with reading paused, so a peer that keeps
   * sending meanwhile fills its own socket buffers, not this process.
   */
  private busy: Promise<void> | null = null;
  private readingPaused = false;
  private readonly reader: FrameReader;
  private outbox: Buffer[] | null = null;
  private outboxBytes = 0;
  private flushScheduled = false;
  /** The transport's unwritten bytes right after our last write, and when it last took some. */
  private pendingAfterWrite = 0;
  private lastProgress = Date.now();
  /** When a packet last arrived once connected (ms since the epoch); until then, when the connection was accepted (the CONNECT deadline counts from it). */
  lastSeen = Date.now();
  /** Keep-alive limit being watched (1.5 x keep alive), 0 for none. */
  private keepAliveLimitMs = 0;
  /** Every byte ever queued for this client: with what is pending, how much the OS took (`sentBytes`). */
  private queuedTotal = 0;
  /** `sentBytes` when a stall last looked (-1: never), and when that value was first seen. */
  private sentAtStall = -1;
  private sentAtStallSince = 0;
  /** While this publisher is stalled: the timer that looks at the stall again. */
  private stallTimer: NodeJS.Timeout | null = null;
  /** Publishers waiting for this client's socket to drain (made on first stall). */
  private drainWaiters: Array<() => void> | null = null;
  /** Stops listening for reloads of this client's rules. */
  private unwatch: (() => void) | null = null;

  constructor(readonly gateway: MqttGatewayCore, readonly connection: Connection, readonly id: number) {
    this.reader = new FrameReader(gateway.options, this);
    attachOwner(connection, this); // onData, onClose
    // [MQTT-3.1.4-?] a connection that sends no CONNECT in reasonable time is closed.
    gateway.connectDeadline.watch(this, gateway.options.connectTimeoutMs);
  }

  get isV5(): boolean {
    return this.protocolVersion === 5;
  }

  /**
   * The user this connection acts as. The client itself listens for reloads
   * of its rules (PrincipalListener: changed, revoked), so a connection costs
   * no listener object or closures of its own (issue 20, heap snapshots).
   */
  adopt(principal: Principal): void {
    this.principal = principal;
    this.unwatch = principal.watch?.(this) ?? null;
  }

  /** A config reload changed this user's rules: drop what they no longer allow (handlers/subscribe.ts). */
  changed(): void {
    dropUnauthorizedSubscriptions(this);
  }

  /** A config reload: the credentials no longer authenticate (MQTT 5: DISCONNECT 0x87 Not authorized). */
  revoked(): void {
    this.close(ReasonCode.NotAuthorized, 'not authorized after reload');
  }

  /** Called by the CONNECT handler once CONNACK 0x00 is sent. */
  markConnected(keepAliveSeconds: number): void {
    this.state = 'connected';
    this.keepAlive = keepAliveSeconds;
    this.lastSeen = Date.now();
    this.gateway.connectDeadline.unwatch(this, this.gateway.options.connectTimeoutMs);
    if (keepAliveSeconds > 0) {
      // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5): no packet within 1.5 x keep alive -> close.
      this.keepAliveLimitMs = keepAliveSeconds * 1500;
      this.gateway.keepAlive.watch(this, this.keepAliveLimitMs);
    }
  }

  /** No packet within 1.5 x keep alive (gateway.keepAlive): close, but not while a handler works (reading is paused, so the client's PINGREQs wait unread). */
  keepAliveExpired(): void {
    if (this.busy === null) this.close(ReasonCode.KeepAliveTimeout, 'keep alive timeout');
  }

  send(packet: Packet): void {
    if (this.state === 'closed') return;
    this.gateway.events?.packet?.(this, 'out', packet);
    if (isPlainAck(packet)) this.enqueue(encodeAck(packet.cmd, packet.messageId ?? 0));
    else this.enqueue(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  sendPublish(out: Outbound, dup: boolean): boolean {
    if (this.state === 'closed') return true; // stays in flight for the next connection
    const m = out.message;
    const trace = this.gateway.events?.packet;
    if (trace !== undefined) trace(this, 'out', { cmd: 'publish', topic: m.topic, payload: m.payload, qos: out.qos, retain: out.retain, dup, ...(out.qos > 0 ? { messageId: out.packetId } : {}) });
    if (this.outboundAliases !== null) return this.sendAliased(out, dup, this.outboundAliases);
    if (out.subscriptionIds === undefined && (!this.isV5 || !hasWireProperties(m))) {
      // Fan-out: the same QoS 0 message to many clients encodes to the same bytes.
      const frame = out.qos === 0
        ? cachedQos0Frame(m, out.retain, this.protocolVersion)
        : encodePublish(m.topic, m.payload, out.qos, out.retain, dup, out.packetId, this.protocolVersion);
      if (frame.length > this.clientMaxPacketSize) return false;
      this.enqueue(frame);
      this.countOut(m);
      return true;
    }
    const bytes = mqttPacket.generate(publishPacket(out, dup, this.isV5), { protocolVersion: this.protocolVersion });
    if (bytes.length > this.clientMaxPacketSize) return false;
    this.enqueue(bytes);
    this.countOut(m);
    return true;
  }

  private countOut(m: MqttMessage): void {
    this.stats.outMsgs++;
    this.stats.outBytes += m.payload.length;
    this.gateway.stats.msgsOut++;
    this.gateway.stats.bytesOut += m.payload.length;
  }

  /** An inbound PUBLISH, counted before its handler runs (whatever becomes of it). */
  countIn(payloadBytes: number): void {
    this.stats.inMsgs++;
    this.stats.inBytes += payloadBytes;
    this.gateway.stats.msgsIn++;
    this.gateway.stats.bytesIn += payloadBytes;
  }

  /**
   * A PUBLISH to a v5 client that takes topic aliases: the frame is this
   * connection's own (no shared QoS 0 frame). The mapping counts only once the
   * PUBLISH is sent: one over the client's Maximum Packet Size is not [MQTT-3.1.2-24].
   */
  private sendAliased(out: Outbound, dup: boolean, aliases: OutboundTopicAliases): boolean {
    const m = out.message;
    const choice = aliases.choose(m.topic);
    const topic = choice.known ? '' : m.topic;
    let frame: Buffer;
    if (out.subscriptionIds === undefined && !hasWireProperties(m)) {
      frame = encodePublish(topic, m.payload, out.qos, out.retain, dup && out.qos > 0, out.packetId, 5, choice.alias);
    } else {
      const packet = publishPacket(out, dup, true);
      packet.topic = topic;
      (packet.properties as NonNullable<IPublishPacket['properties']>).topicAlias = choice.alias;
      frame = mqttPacket.generate(packet, { protocolVersion: 5 });
    }
    if (frame.length > this.clientMaxPacketSize) return false;
    aliases.use(m.topic, choice);
    this.enqueue(frame);
    this.countOut(m);
    return true;
  }

  reserveAck(qos: 1 | 2): AckSlot {
    const slot: AckSlot = { ready: false, packet: null, qos1: qos === 1 };
    if (slot.qos1) this.unackedQos1++;
    (this.acks ??= []).push(slot);
    return slot;
  }

  /** `packet` null = close instead (a 3.1.1 publish that could not be forwarded). */
  completeAck(slot: AckSlot, packet: Packet | null): void {
    slot.ready = true;
    slot.packet = packet;
    const acks = this.acks ?? [];
    while (acks.length > 0 && acks[0].ready) {
      const head = acks.shift() as AckSlot;
      if (head.qos1) this.unackedQos1--;
      if (head.packet === null) {
        this.close();
        return;
      }
      this.send(head.packet);
    }
  }

  sendPubrel(packetId: number): void {
    this.send({ cmd: 'pubrel', messageId: packetId });
  }

  /**
   * Server-side close. MQTT 5 clients get DISCONNECT with the reason first
   * (MQTT 5 §3.14); 3.1.1 has no server DISCONNECT, so the connection just ends.
   */
  close(reasonCode?: number, reasonString?: string): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reasonString ?? (reasonCode === undefined ? 'closed by server' : `closed by server, reason code 0x${reasonCode.toString(16).padStart(2, '0')}`);
    if (this.isV5 && this.state === 'connected' && reasonCode !== undefined) {
      const packet: Packet = { cmd: 'disconnect', reasonCode };
      if (reasonString !== undefined && this.gateway.options.sendReasonStrings) packet.properties = { reasonString };
      this.send(packet);
    }
    this.flush();
    this.teardown();
    this.connection.end();
  }

  /** Close for a bad packet: a v5 CONNACK or DISCONNECT with the reason, then the end. */
  fail(error: unknown): void {
    if (this.state === 'closed') return;
    const code = error instanceof MqttProtocolError ? error.reasonCode : ReasonCode.UnspecifiedError;
    const text = error instanceof Error ? error.message : String(error);
    this.gateway.log('client', this.clientId || `#${this.id}`, 'closed:', text);
    this.close(code, text);
  }

  /** Input from the connection (ConnectionOwner). */
  onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    if (this.state === 'connected') this.lastSeen = Date.now();
    this.reader.push(chunk);
    if (this.busy === null) this.pump();
    else if (this.reader.bufferedBytes > 2 * this.gateway.options.maxPacketSize + UNREAD_SLACK_BYTES) {
      // Only a transport that cannot pause gets here (reading is paused): it may not buffer without bound either.
      this.fail(new MqttProtocolError(ReasonCode.QuotaExceeded, `over ${this.reader.bufferedBytes} bytes sent while a packet was still being handled`));
    }
  }

  /** Handle whole packets in order until the input runs out or a handler is still working. */
  private pump(): void {
    try {
      while (this.busy === null && this.stallTimer === null && this.state !== 'closed') {
        const packet = this.reader.next();
        if (packet === null) break;
        stalledDestination = null;
        this.run(packet);
        const destination = stalledDestination as MqttClient | null;
        stalledDestination = null;
        if (destination !== null) this.stallFor(destination);
      }
    } catch (error) {
      this.fail(error); // a malformed or oversize packet
      return;
    }
    this.setReadingPaused((this.busy !== null || this.stallTimer !== null) && this.state !== 'closed');
  }

  /** Bytes queued and not yet taken by the OS. */
  get pendingBytes(): number {
    return this.outboxBytes + this.connection.writableLength;
  }

  private get sentBytes(): number {
    return this.queuedTotal - this.pendingBytes;
  }

  /** Hold this publisher's next packets while `destination` catches up (see STALL_MIN_MS). */
  private stallFor(destination: MqttClient): void {
    if (destination === this || this.stallTimer !== null || !destination.holdsUp()) return;
    this.gateway.stats.publisherStalls++;
    this.stallTimer = setTimeout(() => this.recheckStall(destination), destination.stallCheckMs());
    destination.afterDrain(this);
  }

  /** A stall's timer: go on once the destination is back to half its limit, closed or stuck; else look again. */
  private recheckStall(destination: MqttClient): void {
    if (this.stallTimer === null) return;
    if (destination.pendingBytes > this.gateway.options.maxPendingBytes / 2 && destination.holdsUp()) {
      this.stallTimer = setTimeout(() => this.recheckStall(destination), destination.stallCheckMs());
    } else {
      this.endStall();
    }
  }

  private endStall(): void {
    if (this.stallTimer === null) return;
    clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (this.state !== 'closed') this.pump();
  }

  /** Whether this destination may stall publishers: it is open and its socket took bytes within STUCK_MS. */
  private holdsUp(): boolean {
    if (this.state === 'closed') return false;
    const sent = this.sentBytes;
    const now = Date.now();
    if (sent !== this.sentAtStall) {
      this.sentAtStall = sent;
      this.sentAtStallSince = now;
      return true;
    }
    return now - this.sentAtStallSince <= STUCK_MS;
  }

  /** From STALL_MIN_MS just past half the limit to STALL_MAX_MS at the limit. */
  private stallCheckMs(): number {
    const half = this.gateway.options.maxPendingBytes / 2;
    const over = Math.min(1, Math.max(0, (this.pendingBytes - half) / half));
    return STALL_MIN_MS + over * (STALL_MAX_MS - STALL_MIN_MS);
  }

  /** End `publisher`'s stall once this client's socket drained (or closed). */
  private afterDrain(publisher: MqttClient): void {
    if (this.drainWaiters === null) {
      this.drainWaiters = [];
      this.connection.onDrain(() => this.releaseStalled());
    }
    this.drainWaiters.push(() => publisher.endStall());
  }

  private releaseStalled(): void {
    const waiters = this.drainWaiters;
    if (waiters === null || waiters.length === 0) return;
    this.drainWaiters = [];
    for (const resume of waiters) resume();
  }

  private setReadingPaused(paused: boolean): void {
    if (paused === this.readingPaused) return;
    this.readingPaused = paused;
    if (paused) this.connection.pauseReading?.();
    else this.connection.resumeReading?.();
  }

  private run(packet: Packet): void {
    this.gateway.events?.packet?.(this, 'in', packet);
    let result: void | Promise<void>;
    try {
      result = dispatchPacket(this, packet);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (result === undefined) return;
    this.busy = result.then(
      () => this.resume(),
      (error: unknown) => {
        this.busy = null;
        this.fail(error);
      },
    );
  }

  private resume(): void {
    this.busy = null;
    this.pump();
  }

  private enqueue(bytes: Buffer): void {
    (this.outbox ??= []).push(bytes);
    this.outboxBytes += bytes.length;
    this.queuedTotal += bytes.length;
    if (this.pendingBytes > this.gateway.options.maxPendingBytes / 2) stalledDestination = this;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.gateway.scheduleFlush(this);
    }
  }

  /** Write what is queued: once per event-loop turn (gateway.scheduleFlush), or at close. */
  flush(): void {
    this.flushScheduled = false;
    const chunks = this.outbox;
    if (chunks === null) return;
    this.outbox = null;
    this.outboxBytes = 0;
    const before = this.connection.writableLength;
    const now = Date.now();
    // Bytes left since the last write (or none were waiting): the reader is reading.
    if (before === 0 || before < this.pendingAfterWrite) this.lastProgress = now;
    this.connection.write(chunks);
    const pending = this.connection.writableLength;
    this.pendingAfterWrite = pending;
    if (this.state !== 'connected') return;
    // Explicit backpressure: a reader that falls this far behind, or that has taken
    // nothing for the write deadline while bytes wait (it stopped reading), is cut
    // off and counted, before its buffer costs the others memory and time.
    const options = this.gateway.options;
    if (pending > options.maxPendingBytes || (before > 0 && now - this.lastProgress > options.writeDeadlineMs)) {
      this.gateway.stats.slowConsumers++;
      this.gateway.stats.slowConsumerBytesDropped += pending;
      this.close(ReasonCode.QuotaExceeded, 'slow consumer');
    }
  }

  private teardown(): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.unwatch?.();
    if (wasConnected) {
      if (this.keepAliveLimitMs > 0) this.gateway.keepAlive.unwatch(this, this.keepAliveLimitMs);
    } else {
      this.gateway.connectDeadline.unwatch(this, this.gateway.options.connectTimeoutMs);
    }
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.releaseStalled(); // publishers stalled for this client go on
    if (wasConnected) this.gateway.clientClosed(this);
  }

  /** The connection ended (ConnectionOwner). */
  onClose(error?: Error): void {
    this.closeReason ??= error === undefined ? 'connection closed by client' : `connection error: ${error.message}`;
    this.gateway.events?.closed(this, this.closeReason);
    this.teardown();
    this.gateway.clientGone(this);
  }
}
