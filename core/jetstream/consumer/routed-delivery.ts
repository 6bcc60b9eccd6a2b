// Hands a consumer's message to whoever subscribes to the pull request's inbox
// or the push deliver subject, while the client sees the message under its
// stored subject (nats-server delivers `MSG <stored subject> <sid> <ack reply>`,
// and clients tell data from status messages by that subject). Same rules as
// Router.publish: every plain subscriber, one member per queue group (rotating),
// and auto-unsubscribe at a subscription's max.

import type { Router } from '../../server/router.ts';
import type { Subscription } from '../../server/subscription.ts';

export class RoutedDelivery {
  private queueCursor = 0;

  constructor(private readonly router: Router) {}

  /** False when nobody subscribes to `to`. */
  send(to: string, subject: string, reply: string, header: Buffer | null, data: Buffer): boolean {
    const message = header === null ? data : Buffer.concat([header, data]);
    const headerSize = header === null ? -1 : header.length;
    const match = this.router.sublist.match(to);
    let n = 0;
    for (const sub of match.psubs) {
      if (sub.closed) continue;
      this.handOver(sub, subject, reply, headerSize, message);
      n++;
    }
    for (const members of match.qsubs) {
      const start = this.queueCursor++ % members.length;
      for (let k = 0; k < members.length; k++) {
        const sub = members[(start + k) % members.length];
        if (sub.closed) continue;
        this.handOver(sub, subject, reply, headerSize, message);
        n++;
        break;
      }
    }
    return n > 0;
  }

  private handOver(sub: Subscription, subject: string, reply: string, headerSize: number, message: Buffer): void {
    sub.owner.deliver(sub, subject, reply, headerSize, message);
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.router.unsubscribe(sub);
      sub.owner.subscriptionEnded(sub);
    }
  }
}
