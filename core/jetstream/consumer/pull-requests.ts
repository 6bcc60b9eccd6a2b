// Waiting pull requests of one consumer (NS consumer.go waitQueue): the body of
// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` parsed into a request, and
// the FIFO the consumer serves them from, round-robin: a request that still
// wants more goes to the back after each message, as nats-server does. Under
// the `prioritized` policy (ADR-42) the queue stays sorted by priority and the
// round-robin happens within one priority (NS waitQueue.addPrioritized,
// popAndRequeue).

import type { Deadline } from './deadline-scheduler.ts';

/** ADR-42: the priority-group fields of a JSON pull request (NS PriorityGroup). */
export interface PullGroup {
  readonly group: string;
  readonly minPending: number;
  readonly minAckPending: number;
  /** The pin id the client holds (pinned_client); the server sets it when it pins this request. */
  id: string;
  /** 0 (first served) to 9 (prioritized). */
  readonly priority: number;
}

export interface PullRequest {
  readonly reply: string;
  /** Messages still wanted. */
  batch: number;
  /** Bytes still allowed (0 = no byte limit). */
  maxBytes: number;
  readonly noWait: boolean;
  /** Wall-clock ms; 0 = never expires. */
  readonly expiresAt: number;
  /** Heartbeat interval in ms (0 = none). */
  readonly heartbeatMs: number;
  /** Messages delivered to this request so far. */
  delivered: number;
  /** When this request last received something (message or heartbeat). */
  lastSent: number;
  /** Set once the request left the queue; its deadline then does nothing. */
  done: boolean;
  deadline: Deadline | null;
  /** Present for every JSON request (nats-server parses the fields from any), null for a bare batch number. */
  readonly group: PullGroup | null;
}

export class PullRequestError extends Error {
  constructor(readonly status: number, readonly description: string) {
    super(`${status} ${description}`);
    this.name = 'PullRequestError';
  }
}

interface NextRequestWire {
  batch?: unknown;
  expires?: unknown;
  max_bytes?: unknown;
  no_wait?: unknown;
  idle_heartbeat?: unknown;
  group?: unknown;
  min_pending?: unknown;
  min_ack_pending?: unknown;
  id?: unknown;
  priority?: unknown;
}

const NS_PER_MS = 1_000_000;

/** NS nextReqFromMsg: empty = batch 1; a JSON request; or a bare number. */
export function parsePullRequest(reply: string, body: Buffer, now: number): PullRequest {
  const text = body.toString('utf8').trim();
  let batch = 1;
  let expiresNs = 0;
  let maxBytes = 0;
  let noWait = false;
  let hbNs = 0;
  let group: PullGroup | null = null;
  if (text.startsWith('{')) {
    let w: NextRequestWire;
    try {
      w = JSON.parse(text) as NextRequestWire;
    } catch (err) {
      throw new PullRequestError(400, `Bad Request - ${err instanceof Error ? err.message : String(err)}`);
    }
    const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0);
    batch = num(w.batch);
    expiresNs = num(w.expires);
    maxBytes = num(w.max_bytes);
    noWait = w.no_wait === true;
    hbNs = num(w.idle_heartbeat);
    if (hbNs > 0 && hbNs * 2 > expiresNs) throw new PullRequestError(400, 'Bad Request - heartbeat value too large');
    group = {
      group: typeof w.group === 'string' ? w.group : '',
      minPending: num(w.min_pending),
      minAckPending: num(w.min_ack_pending),
      id: typeof w.id === 'string' ? w.id : '',
      priority: num(w.priority),
    };
  } else if (text !== '' && /^-?\d+$/.test(text)) {
    batch = Number(text);
  }
  // nats-server serves a batch below 1 as one message.
  if (batch < 1) batch = 1;
  return {
    reply,
    batch,
    maxBytes: Math.max(0, maxBytes),
    noWait,
    expiresAt: expiresNs > 0 ? now + expiresNs / NS_PER_MS : 0,
    heartbeatMs: hbNs > 0 ? hbNs / NS_PER_MS : 0,
    delivered: 0,
    lastSent: now,
    done: false,
    deadline: null,
    group,
  };
}

/** NS insertAtPosition: a bare-number request (no group fields) sorts after every priority. */
function priorityOf(r: PullRequest): number {
  return r.group === null ? Number.MAX_SAFE_INTEGER : r.group.priority;
}

export class PullRequestQueue {
  private items: PullRequest[] = [];

  /** `prioritized`: kept sorted by priority, FIFO within one. */
  constructor(private prioritized = false) {}

  /** The policy changed with a consumer update: sort (stably) when it now applies. */
  setPrioritized(on: boolean): void {
    this.prioritized = on;
    if (on) this.items.sort((a, b) => priorityOf(a) - priorityOf(b));
  }

  get length(): number {
    return this.items.length;
  }

  push(r: PullRequest): void {
    if (!this.prioritized) {
      this.items.push(r);
      return;
    }
    // After every request of the same or a better (lower) priority.
    const p = priorityOf(r);
    let i = this.items.length;
    while (i > 0 && priorityOf(this.items[i - 1]) > p) i--;
    this.items.splice(i, 0, r);
  }

  peek(): PullRequest | undefined {
    return this.items[0];
  }

  /** After the head got a message: drop it when satisfied, else move it to the back. */
  rotate(): void {
    const head = this.items.shift();
    if (head === undefined) return;
    if (head.batch > 0 && !head.done) this.push(head);
    else head.done = true;
  }

  /** The head may not take this message (standby, below its overflow threshold): move it to the back. */
  cycle(): void {
    const head = this.items.shift();
    if (head !== undefined) this.items.push(head);
  }

  removeHead(): PullRequest | undefined {
    const head = this.items.shift();
    if (head !== undefined) head.done = true;
    return head;
  }

  remove(r: PullRequest): void {
    const i = this.items.indexOf(r);
    if (i >= 0) this.items.splice(i, 1);
    r.done = true;
  }

  /** Remove and return every request matching pred. */
  take(pred: (r: PullRequest) => boolean): PullRequest[] {
    const out: PullRequest[] = [];
    const keep: PullRequest[] = [];
    for (const r of this.items) (pred(r) ? out : keep).push(r);
    this.items = keep;
    for (const r of out) r.done = true;
    return out;
  }

  all(): readonly PullRequest[] {
    return this.items;
  }
}
