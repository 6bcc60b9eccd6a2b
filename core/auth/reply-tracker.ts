// allow_responses (ND …/securing_nats/authorization.md): a service may publish
// to the reply subject of each request delivered to it, at most `maxMsgs` times
// and within `expiresMs`, without a publish grant for those subjects. One
// tracker per connection. Bounded and cheap: a Map in insertion order, pruned
// of expired entries every PRUNE_EVERY inserts or PRUNE_INTERVAL_MS (the
// thresholds nats-server uses: replyPermLimit 4096, replyPruneTime 1s), and
// never larger than MAX_ENTRIES (oldest dropped first).

import type { ResponsePermissionOptions } from '../config/auth-options.ts';

const PRUNE_EVERY = 4096;
const PRUNE_INTERVAL_MS = 1000;
const MAX_ENTRIES = 65_536;

interface PendingReply {
  at: number;
  sent: number;
}

export class ReplyTracker {
  private readonly replies = new Map<string, PendingReply>();
  private insertsSincePrune = 0;
  private lastPrune: number;

  constructor(private readonly limits: ResponsePermissionOptions, private readonly now: () => number = Date.now) {
    this.lastPrune = now();
  }

  get size(): number {
    return this.replies.size;
  }

  /** A request carrying `reply` was delivered. */
  noteReply(reply: string): void {
    const now = this.now();
    // Re-inserting moves it to the end, keeping the Map ordered by age.
    this.replies.delete(reply);
    this.replies.set(reply, { at: now, sent: 0 });
    if (++this.insertsSincePrune > PRUNE_EVERY || now - this.lastPrune > PRUNE_INTERVAL_MS) this.prune(now);
    if (this.replies.size > MAX_ENTRIES) this.replies.delete(this.replies.keys().next().value as string);
  }

  /** May one response go to `subject` now? Counts it when yes. */
  allowResponse(subject: string): boolean {
    const entry = this.replies.get(subject);
    if (entry === undefined) return false;
    const { maxMsgs, expiresMs } = this.limits;
    if (expiresMs > 0 && this.now() - entry.at > expiresMs) {
      this.replies.delete(subject);
      return false;
    }
    entry.sent++;
    if (maxMsgs > 0 && entry.sent >= maxMsgs) this.replies.delete(subject);
    return maxMsgs <= 0 || entry.sent <= maxMsgs;
  }

  private prune(now: number): void {
    this.insertsSincePrune = 0;
    this.lastPrune = now;
    const { expiresMs } = this.limits;
    if (expiresMs <= 0) return;
    for (const [subject, entry] of this.replies) {
      // Entries are in age order: stop at the first one still live.
      if (now - entry.at <= expiresMs) break;
      this.replies.delete(subject);
    }
  }
}
