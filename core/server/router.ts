// Subject router: matches a published subject against the sublist and hands
// the message to each plain subscriber and to one member of each queue group.
// Auto-unsubscribe (UNSUB max) is enforced here, inside the server, which is
// what cuts off the extra answers in "first reply wins" request/reply.

import { Sublist } from '../subject/sublist.ts';
import type { Subscriber, Subscription } from './subscription.ts';

export interface RouterStats {
  inMsgs: number;
  inBytes: number;
}

export class Router {
  readonly sublist = new Sublist<Subscription>();
  readonly stats: RouterStats = { inMsgs: 0, inBytes: 0 };
  /** Rotates queue-group picks so load spreads evenly across members. */
  private queueCursor = 0;
  /** Told about every subscribe and unsubscribe (JetStream push consumers watch their deliver subjects). */
  private observers: Array<(sub: Subscription, added: boolean) => void> = [];

  subscribe(sub: Subscription): void {
    this.sublist.insert(sub);
    for (const o of this.observers) o(sub, true);
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
    for (const o of this.observers) o(sub, false);
  }

  /** True when at least one subscription would receive a message on `subject`. */
  hasInterest(subject: string): boolean {
    const m = this.sublist.match(subject);
    return m.psubs.length > 0 || m.qsubs.length > 0;
  }

  /**
   * Deliver one message; returns how many subscriptions received it.
   * Precondition: subject is a valid literal subject.
   */
  publish(subject: string, reply: string | null, headerSize: number, message: Buffer, origin: Subscriber | null): number {
    this.stats.inMsgs++;
    this.stats.inBytes += message.length;
    const match = this.sublist.match(subject);
    let delivered = 0;
    const psubs = match.psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.closed || (sub.owner === origin && !origin.echo)) continue;
      this.deliverTo(sub, subject, reply, headerSize, message);
      delivered++;
    }
    const groups = match.qsubs;
    for (let g = 0; g < groups.length; g++) {
      const sub = this.pickMember(groups[g], origin);
      if (sub === null) continue;
      this.deliverTo(sub, subject, reply, headerSize, message);
      delivered++;
    }
    return delivered;
  }

  private deliverTo(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    sub.owner.deliver(sub, subject, reply, headerSize, message);
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.unsubscribe(sub);
      sub.owner.subscriptionEnded(sub);
    }
  }

  private pickMember(members: readonly Subscription[], origin: Subscriber | null): Subscription | null {
    const n = members.length;
    const start = this.queueCursor++ % n;
    for (let k = 0; k < n; k++) {
      const sub = members[(start + k) % n];
      if (sub.closed || (sub.owner === origin && !origin.echo)) continue;
      return sub;
    }
    return null;
  }
}
