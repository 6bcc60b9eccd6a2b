// The requests a broker has sent and not yet had answered, keyed by the token
// at the end of their reply subject. Both brokers answer requests through one
// inbox subscription and this table: the first answer wins, later ones find
// no entry and are ignored (request/reply's "first answer wins").
//
// One timer serves every request, armed for the earliest deadline and only
// while a request is pending (an idle broker keeps no process alive): a timer
// per request cost an allocation, a timer-list insert and a clear each, and
// nats.js's own request() builds two Errors with stack traces per request.

import type { BrokerMessage } from './broker.ts';
import { RequestTimeoutError } from './errors.ts';

interface PendingRequest {
  resolve(message: BrokerMessage): void;
  reject(error: Error): void;
  subject: string;
  timeoutMs: number;
  /** performance.now() at which the request times out. */
  deadline: number;
}

/** setTimeout's longest delay; a longer one fires at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/**
 * Expired requests are swept at most this often: when many time out one after
 * another (a server gone quiet), a sweep per millisecond over all of them
 * would cost more than the timeouts are worth.
 */
const SWEEP_MS = 10;

export class PendingRequests {
  private readonly pending = new Map<string, PendingRequest>();
  private nextId = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  /**
   * Holds a request and returns its token. Its clock starts now; call watch()
   * once it is sent. A timeout that is not a positive number is 1 ms; one past
   * setTimeout's range waits as long as a timer can.
   */
  add(subject: string, timeoutMs: number, resolve: (message: BrokerMessage) => void, reject: (error: Error) => void): string {
    const token = (this.nextId++).toString(36);
    const wait = timeoutMs > 0 ? Math.min(timeoutMs, LONGEST_TIMER_MS) : 1;
    this.pending.set(token, { resolve, reject, subject, timeoutMs, deadline: performance.now() + wait });
    return token;
  }

  /** Times the request out at its deadline, if it is still waiting (an in-process answer may already have come). */
  watch(token: string): void {
    const request = this.pending.get(token);
    if (request !== undefined) this.arm(request.deadline);
  }

  /** The answer to `token`; nothing when it was already answered, failed or timed out. */
  resolve(token: string, message: BrokerMessage): void {
    const request = this.take(token);
    request?.resolve(message);
  }

  /** Fails `token` with the error `reason` builds from its subject; nothing when it is no longer waiting. */
  reject(token: string, reason: (subject: string) => Error): void {
    const request = this.take(token);
    request?.reject(reason(request.subject));
  }

  /** Fails the requests waiting on `subject` (the server refused to publish to it). */
  rejectSubject(subject: string, reason: (subject: string) => Error): void {
    for (const [token, request] of [...this.pending]) if (request.subject === subject) this.reject(token, reason);
  }

  /** Fails every waiting request (the broker closed under them). */
  rejectAll(reason: (subject: string) => Error): void {
    for (const token of [...this.pending.keys()]) this.reject(token, reason);
  }

  /** Forgets every waiting request without settling it. */
  clear(): void {
    this.pending.clear();
    this.disarm();
  }

  private take(token: string): PendingRequest | undefined {
    const request = this.pending.get(token);
    if (request === undefined) return undefined;
    this.pending.delete(token);
    if (this.pending.size === 0) this.disarm();
    return request;
  }

  private arm(deadline: number): void {
    if (deadline >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = deadline;
    // At least 1 ms: the timer may fire a little before performance.now() reaches the deadline.
    this.timer = setTimeout(() => this.expire(), Math.max(1, deadline - performance.now()));
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** Fails every request past its deadline, then re-arms for the earliest one left. */
  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [token, request] of this.pending) {
      if (request.deadline <= now) {
        this.pending.delete(token);
        request.reject(new RequestTimeoutError(request.subject, request.timeoutMs));
      } else if (request.deadline < next) {
        next = request.deadline;
      }
    }
    if (next !== Infinity) this.arm(Math.max(next, now + SWEEP_MS));
  }
}
