// Subject router: matches a published subject against the sublist and hands
// the message to each plain subscriber and to one member of each queue group.
// Auto-unsubscribe (UNSUB max) is enforced here, inside the server, which is
// what cuts off the extra answers in "first reply wins" request/reply.
//
// A claimed prefix (JetStream's `$JS.ACK.`) skips the sublist: every subject
// under it is unique, so a match would always miss the cache and walk the
// trie. While no other subscription overlaps the claim, its owner is the only
// possible receiver; once one does (a client watching `$JS.ACK.>` or `>`),
// publishes there go through the sublist like any other, so they see them.
//
// A subscription that hides reserved subjects (an MQTT `#`, see
// Subscription.hidesReserved) is skipped for `$...` and `_INBOX...` subjects:
// it neither receives them nor counts as delivered, so a request to a subject
// nobody serves still fails fast with no responders.

import { isReservedSubject, subjectsOverlap } from '../subject/subject.ts';
import { Sublist } from '../subject/sublist.ts';
import type { Subscriber, Subscription } from './subscription.ts';

interface PrefixClaim {
  /** The claiming subscription, on `<prefix>>`. */
  readonly sub: Subscription;
  readonly prefix: string;
  /** The claim's first token with its dot: a quick test before the full overlap check. */
  readonly firstToken: string;
  /** Other subscriptions that overlap the claim; the fast path is off while any exists. */
  others: number;
}

export interface RouterStats {
  inMsgs: number;
  inBytes: number;
}

export class Router {
  readonly sublist = new Sublist<Subscription>();
  readonly stats: RouterStats = { inMsgs: 0, inBytes: 0 };
  /**
   * Counts deliveries (one per publish or deliverAs): a subscriber holding
   * several matching subscriptions (a leafnode link's plain and queue
   * interest) tells one message's deliveries from the next by it. Like
   * routedBy, it is the delivery in progress's even when a subscriber
   * publishes while it is delivered to (route() restores both).
   */
  round = 0;
  /** Rounds handed out: a nested route() takes a new one, never its caller's. */
  private rounds = 0;
  /**
   * The subject the delivery in progress was routed by (deliverAs's `to`),
   * read by a subscriber that forwards to another server: a JetStream push
   * message crosses a leaf link under its deliver subject, with the stored
   * subject after an `@` in its ack reply (nats-server processMsgResults).
   */
  routedBy = '';
  /** Told about every subscribe and unsubscribe (JetStream push consumers watch their deliver subjects). */
  private observers: Array<(sub: Subscription, added: boolean) => void> = [];
  private claims: PrefixClaim[] = [];

  subscribe(sub: Subscription): void {
    this.sublist.insert(sub);
    for (const c of this.claims) if (overlaps(sub, c)) c.others++;
    for (const o of this.observers) o(sub, true);
  }

  /**
   * Subscribe `sub` (subject `<prefix>.>`) as the owner of every subject under
   * the prefix: publishes there reach it without a sublist match while no other
   * subscription overlaps. Unsubscribing it ends the claim.
   */
  subscribeClaim(sub: Subscription): void {
    if (!sub.subject.endsWith('.>')) throw new RangeError(`a claim needs a subject ending in '.>', not ${sub.subject}`);
    const claim: PrefixClaim = { sub, prefix: sub.subject.slice(0, -1), firstToken: sub.subject.slice(0, sub.subject.indexOf('.') + 1), others: 0 };
    for (const existing of this.sublist.all()) if (overlaps(existing, claim)) claim.others++;
    this.subscribe(sub);
    this.claims = [...this.claims, claim];
  }

  /** Watch subscriptions come and go; returns the function that stops watching. */
  observe(observer: (sub: Subscription, added: boolean) => void): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.sublist.remove(sub);
    if (this.claims.length > 0) this.releaseClaimOverlap(sub);
    for (const o of this.observers) o(sub, false);
  }

  private releaseClaimOverlap(sub: Subscription): void {
    if (this.claims.some((c) => c.sub === sub)) {
      this.claims = this.claims.filter((c) => c.sub !== sub);
      return;
    }
    for (const c of this.claims) if (overlaps(sub, c)) c.others--;
  }

  /** True when at least one subscription would receive a message on `subject`. */
  hasInterest(subject: string): boolean {
    const m = this.sublist.match(subject);
    if (!isReservedSubject(subject)) return m.psubs.length > 0 || m.qsubs.length > 0;
    return m.psubs.some((s) => !s.hidesReserved) || m.qsubs.some((group) => group.some((s) => !s.hidesReserved));
  }

  /**
   * Deliver one message; returns how many subscriptions received it.
   * `queues`, given for a message another server forwarded (a leafnode's
   * LMSG), names the only queue groups to serve: that server already chose
   * this one for them, and none for the others (nats-server processMsgResults).
   * Precondition: subject is a valid literal subject.
   */
  publish(subject: string, reply: string | null, headerSize: number, message: Buffer, origin: Subscriber | null, queues?: readonly string[]): number {
    return this.publishRange(subject, reply, headerSize, message, 0, message.length, origin, queues);
  }

  /**
   * publish() of the message `source[start, end)`, as a client's parser hands it over: the
   * range becomes a Buffer only for a receiver that keeps it (see deliverTo); a slice costs
   * as much as the rest of routing a small publish.
   */
  publishRange(subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number, origin: Subscriber | null, queues?: readonly string[]): number {
    this.stats.inMsgs++;
    this.stats.inBytes += end - start;
    return this.route(subject, subject, reply, headerSize, source, start, end, origin, queues);
  }

  /**
   * Deliver to the subscribers of `to` a message shown under `subject`, by the rules of publish
   * (every plain subscriber, one member per queue group, auto-unsubscribe, reserved subjects),
   * without counting it as inbound. JetStream routes a consumer's message by the pull
   * request's inbox or the push deliver subject while the client sees its stored subject
   * (nats-server sends `MSG <stored subject> <sid> <ack reply>`). Returns the deliveries.
   * Precondition: both are valid literal subjects.
   */
  deliverAs(to: string, subject: string, reply: string | null, headerSize: number, message: Buffer, origin: Subscriber | null, queues?: readonly string[]): number {
    return this.route(to, subject, reply, headerSize, message, 0, message.length, origin, queues);
  }

  private route(to: string, subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number, origin: Subscriber | null, queues?: readonly string[]): number {
    const round = ++this.rounds;
    this.round = round;
    this.routedBy = to;
    // One Buffer of the range for every receiver that keeps it: made on first need, and the same
    // object for all (a leafnode link tells one message's deliveries from the next by it).
    let part: Buffer | null = start === 0 && end === source.length ? source : null;
    const claims = this.claims;
    for (let i = 0; i < claims.length; i++) {
      const c = claims[i];
      if (c.others === 0 && to.startsWith(c.prefix)) {
        if (c.sub.owner === origin && !origin.echo) return 0;
        this.deliverTo(c.sub, subject, reply, headerSize, source, start, end, part);
        return 1;
      }
    }
    const match = this.sublist.match(to);
    const reserved = isReservedSubject(to);
    let delivered = 0;
    const psubs = match.psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.closed || (sub.owner === origin && !origin.echo) || (reserved && sub.hidesReserved)) continue;
      part = this.deliverTo(sub, subject, reply, headerSize, source, start, end, part);
      delivered++;
      // A receiver that published meanwhile (an in-process responder) routed another message.
      if (this.round !== round) this.resume(round, to);
    }
    const groups = match.qsubs;
    for (let g = 0; g < groups.length; g++) {
      if (queues !== undefined && !queues.includes(groups[g][0]?.queue as string)) continue;
      const sub = this.pickMember(groups[g], origin, reserved);
      if (sub === null) continue;
      part = this.deliverTo(sub, subject, reply, headerSize, source, start, end, part);
      delivered++;
      if (this.round !== round) this.resume(round, to);
    }
    return delivered;
  }

  /** Back to this route's round and subject after a receiver published meanwhile (an in-process responder answering). */
  private resume(round: number, to: string): void {
    this.round = round;
    this.routedBy = to;
  }

  /**
   * A subscriber that copies the message out takes the range; any other gets it as a Buffer,
   * `part` when already made, else sliced now. Returns the Buffer made, for the next receiver.
   */
  private deliverTo(sub: Subscription, subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number, part: Buffer | null): Buffer | null {
    const owner = sub.owner;
    if (owner.deliverRange !== undefined) owner.deliverRange(sub, subject, reply, headerSize, source, start, end);
    else owner.deliver(sub, subject, reply, headerSize, (part ??= source.subarray(start, end)));
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.unsubscribe(sub);
      sub.owner.subscriptionEnded(sub);
    }
    return part;
  }

  /**
   * One member of a queue group, chosen at random as nats-server does: each group spreads on its
   * own, whatever other groups match, and members joining or leaving shift nothing. (A single
   * cursor shared by all groups stepped once per group per message, so with an even number of
   * matching groups a group of two always landed on the same member.)
   */
  private pickMember(members: readonly Subscription[], origin: Subscriber | null, reserved: boolean): Subscription | null {
    const n = members.length;
    const start = n === 1 ? 0 : Math.floor(Math.random() * n);
    let remote: Subscription | null = null;
    for (let k = 0; k < n; k++) {
      const sub = members[(start + k) % n];
      if (sub.closed || (sub.owner === origin && !origin.echo) || (reserved && sub.hidesReserved)) continue;
      if (!sub.remote) return sub;
      remote ??= sub;
    }
    return remote;
  }
}

/** Could `subject` receive a message published under the claim? Subscribe-time only. */
function overlaps(sub: Subscription, claim: PrefixClaim): boolean {
  const subject = sub.subject;
  // Claims are on reserved prefixes ($JS.ACK., _INBOX.<id>.), which a subscription hiding them never sees.
  if (sub.hidesReserved && isReservedSubject(claim.prefix)) return false;
  const first = subject.charCodeAt(0);
  // A subject whose first token is neither a wildcard nor the claim's cannot overlap.
  if (first !== 0x2a && first !== 0x3e && !subject.startsWith(claim.firstToken)) return false;
  return subjectsOverlap(subject, claim.sub.subject);
}
