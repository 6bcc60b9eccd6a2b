// The pull side of one consumer (NS consumer.go processNextMsgRequest,
// nextWaiting, processWaiting): a new MSG.NEXT request checked against the
// consumer's limits and priority groups and queued; each request's expiry and
// idle heartbeats; and, for a message the consumer has taken, the request
// that receives it. Delivery itself stays with the consumer (consumer.ts).

import type { ConsumerConfig } from './consumer-config.ts';
import type { ConsumerHost, Consumer } from './consumer.ts';
import { CallbackDeadline, type Deadline } from './deadline-scheduler.ts';
import { PriorityPolicy } from './priority-config.ts';
import { Admit, PriorityGroups } from './priority-groups.ts';
import { parsePullRequest, PullRequestError, PullRequestQueue, type PullRequest } from './pull-requests.ts';
import * as S from './status-messages.ts';

const NS_PER_MS = 1_000_000;

export class PullWaiting {
  private readonly queue: PullRequestQueue;
  /** Priority groups (ADR-42), and the checks every request's group fields get. */
  readonly priority: PriorityGroups;

  constructor(private readonly host: ConsumerHost, private readonly consumer: Consumer, config: ConsumerConfig) {
    this.queue = new PullRequestQueue(config.priorityPolicy === PriorityPolicy.Prioritized);
    this.priority = new PriorityGroups(consumer, config);
  }

  get length(): number {
    return this.queue.length;
  }

  reconfigure(next: ConsumerConfig): void {
    this.priority.reconfigure(next);
    this.queue.setPrioritized(next.priorityPolicy === PriorityPolicy.Prioritized);
  }

  /** `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`: refused with a status, or queued (NS processNextMsgRequest order). */
  request(reply: string, body: Buffer): void {
    const now = Date.now();
    let req: PullRequest;
    try {
      req = parsePullRequest(reply, body, now);
    } catch (err) {
      if (err instanceof PullRequestError) this.host.sendStatus(reply, S.statusHeader(err.status, err.description));
      return;
    }
    const c = this.consumer.config;
    if (c.maxBatch > 0 && req.batch > c.maxBatch) return this.host.sendStatus(reply, S.statusHeader(409, `Exceeded MaxRequestBatch of ${c.maxBatch}`));
    if (c.maxExpires > 0 && req.expiresAt > 0 && req.expiresAt > now + c.maxExpires / NS_PER_MS) {
      return this.host.sendStatus(reply, S.statusHeader(409, `Exceeded MaxRequestExpires of ${c.maxExpires / NS_PER_MS}ms`));
    }
    if (c.maxBytes > 0 && req.maxBytes > c.maxBytes) return this.host.sendStatus(reply, S.statusHeader(409, `Exceeded MaxRequestMaxBytes of ${c.maxBytes}`));
    const refused = this.priority.checkPull(req.group, now);
    if (refused !== null) return this.host.sendStatus(reply, refused);
    this.consumer.lastActive = now;
    if (req.noWait && req.expiresAt === 0 && !this.consumer.hasDeliverable()) return this.host.sendStatus(reply, S.NO_MESSAGES);
    if (this.queue.length >= c.maxWaiting) {
      this.expire(now);
      if (this.queue.length >= c.maxWaiting) {
        // With heartbeats the client waits for missed heartbeats instead of hot-looping on 409s (NS).
        if (req.heartbeatMs === 0) this.host.sendStatus(reply, S.EXCEEDED_MAX_WAITING);
        return;
      }
    }
    this.queue.push(req);
    this.arm(req);
    this.host.setHungry(this.consumer, true);
    this.host.wake(this.consumer);
  }

  private arm(req: PullRequest): void {
    let at = req.expiresAt > 0 ? req.expiresAt : Infinity;
    if (req.heartbeatMs > 0) at = Math.min(at, req.lastSent + req.heartbeatMs);
    if (at === Infinity) return;
    const d = new CallbackDeadline(at, (now) => this.due(req, d, now));
    req.deadline = d;
    this.host.scheduler.add(d);
  }

  private due(req: PullRequest, d: Deadline, now: number): void {
    if (req.done || req.deadline !== d || this.consumer.deleted) return;
    if (req.expiresAt > 0 && now >= req.expiresAt - 1) {
      this.queue.remove(req);
      this.host.sendStatus(req.reply, timeout(req));
      this.changed(now);
      return;
    }
    if (req.heartbeatMs > 0 && now - req.lastSent >= req.heartbeatMs - 1) {
      this.host.sendStatus(req.reply, S.idleHeartbeat(this.consumer.dseq, this.consumer.sseq - 1, null));
      req.lastSent = now;
    }
    this.arm(req);
  }

  /** Drop expired and abandoned requests (the queue is full). */
  private expire(now: number): void {
    for (const r of this.queue.take((r) => (r.expiresAt > 0 && now >= r.expiresAt) || !this.host.hasInterest(r.reply))) {
      if (r.expiresAt > 0 && now >= r.expiresAt) this.host.sendStatus(r.reply, timeout(r));
    }
  }

  /** After serving or dropping requests: an empty queue makes the consumer idle. */
  changed(now: number): void {
    if (this.queue.length > 0) return;
    this.host.setHungry(this.consumer, false);
    this.consumer.lastActive = now;
    this.consumer.armInactive();
  }

  /**
   * NS nextWaiting: the request that takes the message at hand, brought to
   * the head, or undefined; drops expired and abandoned ones. `pending` counts
   * the undelivered messages including this one, `ackPending` the deliveries
   * awaiting an ack: priority groups may pass over standby requests or drop
   * stale pins.
   */
  next(now: number, pending: number, ackPending: number): PullRequest | undefined {
    const q = this.queue;
    let skipped = 0;
    for (let r = q.peek(); r !== undefined; r = q.peek()) {
      if (r.expiresAt > 0 && now >= r.expiresAt) {
        q.removeHead();
        this.host.sendStatus(r.reply, timeout(r));
        continue;
      }
      // The requester went away (closed inbox): nothing to answer (NS checks interest the same way).
      if (!this.host.hasInterest(r.reply)) {
        q.removeHead();
        continue;
      }
      const verdict = this.priority.admit(r, pending, ackPending, now);
      if (verdict === Admit.Serve) return r;
      if (verdict === Admit.Evict) {
        q.removeHead();
        this.host.sendStatus(r.reply, PriorityGroups.wrongPinId(r));
        continue;
      }
      q.cycle();
      if (++skipped >= q.length) return undefined;
    }
    return undefined;
  }

  /** The head request cannot take the message (over its max_bytes): it ends with 409 (NS nextWaiting). */
  tooLarge(req: PullRequest): void {
    this.priority.refused(req);
    this.queue.removeHead();
    this.host.sendStatus(req.reply, S.statusWithPending(409, 'Message Size Exceeds MaxBytes', req.batch, req.maxBytes));
  }

  /** The head request got a message of `size` bytes: count it, then it goes to the back or, satisfied, away. */
  served(req: PullRequest, size: number, now: number): void {
    req.delivered++;
    req.lastSent = now;
    req.batch--;
    if (req.maxBytes > 0) {
      req.maxBytes -= size;
      if (req.maxBytes === 0) req.batch = 0;
    }
    this.queue.rotate();
  }

  /** No more messages now: no_wait requests end (NS processWaiting with eos). */
  finishNoWait(): void {
    for (const r of this.queue.take((r) => r.noWait && (r.expiresAt === 0 || r.delivered > 0))) this.host.sendStatus(r.reply, S.NO_MESSAGES);
  }

  /** The consumer is deleted: tell waiting requests, as nats-server does. */
  close(): void {
    for (const r of this.queue.take(() => true)) this.host.sendStatus(r.reply, S.CONSUMER_DELETED);
  }
}

function timeout(r: PullRequest): Buffer {
  return S.statusWithPending(408, 'Request Timeout', r.batch, r.maxBytes);
}
