// Waiting pull requests of one consumer (NS consumer.go waitQueue): the body of
// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` parsed into a request, and
// the FIFO the consumer serves them from, round-robin: a request that still
// wants more goes to the back after each message, as nats-server does.

import type { Deadline } from './deadline-scheduler.ts';

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
  };
}

export class PullRequestQueue {
  private items: PullRequest[] = [];

  get length(): number {
    return this.items.length;
  }

  push(r: PullRequest): void {
    this.items.push(r);
  }

  peek(): PullRequest | undefined {
    return this.items[0];
  }

  /** After the head got a message: drop it when satisfied, else move it to the back. */
  rotate(): void {
    const head = this.items.shift();
    if (head === undefined) return;
    if (head.batch > 0 && !head.done) this.items.push(head);
    else head.done = true;
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
