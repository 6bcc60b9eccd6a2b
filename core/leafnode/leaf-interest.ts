// The interest one leaf link has told the other side about (nats-server's
// leaf `smap`): a count per key, `<subject>` or `<subject> <queue>`. A plain
// key goes out as LS+ when its count leaves 0 and LS- when it returns there;
// a queue key goes out on every change with its weight, the number of local
// members (nats-server updateSmap / writeLeafSub).

import type { Subscription } from '../server/subscription.ts';
import { encodeSub, encodeUnsub } from './leaf-wire.ts';

export class LeafInterest {
  private readonly counts = new Map<string, number>();

  /** `accept(sub)` says whether this link forwards the subscription at all. */
  constructor(private readonly accept: (sub: Subscription) => boolean) {}

  /** The LS+ lines for every subscription there is now (sent once, after CONNECT). */
  initial(subs: Iterable<Subscription>): string {
    let lines = '';
    for (const sub of subs) {
      if (sub.closed || !this.accept(sub)) continue;
      const key = keyOf(sub);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
    for (const [key, n] of this.counts) lines += line(key, n);
    return lines;
  }

  /** The line to send for a subscription that came or went, or '' when the other side knows already. */
  change(sub: Subscription, added: boolean): string {
    if (!this.accept(sub)) return '';
    const key = keyOf(sub);
    const before = this.counts.get(key) ?? 0;
    if (!added && before === 0) return '';
    const after = before + (added ? 1 : -1);
    if (after > 0) this.counts.set(key, after);
    else this.counts.delete(key);
    if (sub.queue !== null || (before === 0) !== (after === 0)) return line(key, after);
    return '';
  }

  get size(): number {
    return this.counts.size;
  }
}

function keyOf(sub: Subscription): string {
  return sub.queue === null ? sub.subject : `${sub.subject} ${sub.queue}`;
}

function line(key: string, n: number): string {
  const space = key.indexOf(' ');
  const subject = space < 0 ? key : key.slice(0, space);
  const queue = space < 0 ? null : key.slice(space + 1);
  return n > 0 ? encodeSub(subject, queue, n) : encodeUnsub(subject, queue);
}
