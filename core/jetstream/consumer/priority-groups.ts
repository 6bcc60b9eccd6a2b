// Priority groups of one pull consumer (ADR-42; nats-server 2.11-2.12
// consumer.go processNextMsgRequest, nextWaiting, assignNewPinId,
// setPinnedTimer): which waiting pull request may take the next message.
//
// - overflow: a request with min_pending / min_ack_pending waits until the
//   consumer's pending or ack-pending count reaches either threshold.
// - pinned_client: the first request without an `id` that gets a message is
//   pinned (a new pin id, sent as Nats-Pin-Id); requests without the id stand
//   by, a request with another id is answered 423 and dropped. The pin ends
//   priority_timeout after it was given or last renewed by a pull carrying
//   it, or by CONSUMER.UNPIN; the next message then picks a new pin.
// - prioritized: the queue order itself (PullRequestQueue), nothing here.
//
// Unlike nats-server, the pin is part of the consumer's saved state, so a
// restart keeps the pinned client (issue 24's persistence requirement); its
// timeout starts again from the restart.

import { formatTime, ZERO_TIME } from '../rfc3339.ts';
import type { ConsumerConfig } from './consumer-config.ts';
import { CallbackDeadline, type DeadlineScheduler } from './deadline-scheduler.ts';
import { PriorityPolicy } from './priority-config.ts';
import type { PullGroup, PullRequest } from './pull-requests.ts';
import { randomName } from './random-name.ts';
import * as S from './status-messages.ts';

/** What to do with the head request for the message at hand. */
export const Admit = {
  Serve: 0,
  /** Not now (standby, below its overflow threshold): cycle it to the back. */
  Skip: 1,
  /** It holds a pin id that is no longer the pin: 423 and out. */
  Evict: 2,
} as const;
export type Admit = (typeof Admit)[keyof typeof Admit];

export interface PriorityHost {
  readonly scheduler: DeadlineScheduler;
  /** `$JS.EVENT.ADVISORY.CONSUMER.<kind>.<stream>.<consumer>`. */
  advise(kind: 'PINNED' | 'UNPINNED', fields: Record<string, unknown>): void;
  /** The pin changed: save the state and let waiting requests compete for the next message. */
  pinChanged(): void;
}

/** ConsumerInfo `priority_groups` entries (NS PriorityGroupState). */
export interface PriorityGroupStateWire {
  group: string;
  pinned_client_id?: string;
  /** Go's zero time while nothing is pinned (a time.Time is never omitted). */
  pinned_ts: string;
}

/** The pin as the consumer's state file keeps it. */
export interface PinStateWire {
  id: string;
  /** Milliseconds since the epoch. */
  ts: number;
}

const PIN_ID_LENGTH = 22;
const NS_PER_MS = 1_000_000;

export class PriorityGroups {
  /** The current pin id ('' = none). */
  private pinId = '';
  private pinnedAt = 0;
  private pinExpiresAt = 0;
  private pinArmed = false;
  /** The request the last admit() pinned, until its message goes out. */
  private justPinned: PullRequest | null = null;

  constructor(private readonly host: PriorityHost, private config: ConsumerConfig) {}

  /** A consumer update: a pin does not survive a change of policy or groups. */
  reconfigure(next: ConsumerConfig): void {
    const same = next.priorityPolicy === this.config.priorityPolicy && next.priorityGroups.join('\0') === this.config.priorityGroups.join('\0');
    this.config = next;
    if (!same) this.clearPin();
  }

  /**
   * NS processNextMsgRequest: the status a new pull request is refused with,
   * or null. A request carrying the current pin id renews the pin.
   */
  checkPull(group: PullGroup | null, now: number): Buffer | null {
    if (group === null) return null;
    const policy = this.config.priorityPolicy;
    if ((group.minPending !== 0 || group.minAckPending !== 0) && policy !== PriorityPolicy.Overflow) return badRequest('Not a Overflow Priority consumer');
    if (group.id !== '' && policy !== PriorityPolicy.PinnedClient) return badRequest('Not a Pinned Client Priority consumer');
    if (group.priority < 0 || group.priority > 9) return badRequest('Priority must be between 0 and 9');
    if (policy === PriorityPolicy.None) return null;
    if (group.group === '') return badRequest('Priority Group missing');
    if (!this.config.priorityGroups.includes(group.group)) return badRequest('Invalid Priority Group');
    if (this.pinId !== '') {
      if (group.id === this.pinId) this.pinExpiresAt = now + this.ttlMs();
      else if (group.id !== '') return S.PIN_ID_MISMATCH;
    }
    return null;
  }

  /**
   * NS nextWaiting, for the head request `r` and a message at hand:
   * `pending` counts the undelivered messages including this one,
   * `ackPending` the deliveries awaiting an ack.
   */
  admit(r: PullRequest, pending: number, ackPending: number, now: number): Admit {
    const g = r.group;
    const policy = this.config.priorityPolicy;
    if (policy === PriorityPolicy.PinnedClient) {
      if (this.pinId === '') {
        if (g !== null && g.id !== '') return Admit.Evict;
        // A bare-number request carries no group: it is served, and nobody is pinned (NS assignNewPinId).
        if (g !== null) this.pin(r, g, now);
      } else if (g === null || g.id === '') {
        return Admit.Skip;
      } else if (g.id !== this.pinId) {
        return Admit.Evict;
      }
    } else if (policy === PriorityPolicy.Overflow && g !== null && (g.minPending > 0 || g.minAckPending > 0)) {
      // Either threshold reached is enough (ADR-42: boolean OR).
      const over = (g.minPending > 0 && g.minPending <= pending) || (g.minAckPending > 0 && g.minAckPending <= ackPending);
      if (!over) return Admit.Skip;
    }
    return Admit.Serve;
  }

  /** The 423 a request holding a stale pin id is dropped with (NS nextWaiting). */
  static wrongPinId(r: PullRequest): Buffer {
    return S.statusWithPending(423, 'Nats-Wrong-Pin-Id', r.batch, r.maxBytes);
  }

  /**
   * The admitted request could not take the message after all (over its
   * max_bytes): a pin it was just given goes back, without an advisory
   * (NS nextWaiting's assignedPin).
   */
  refused(r: PullRequest): void {
    if (this.justPinned === r) this.clearPin();
  }

  /** The header a message goes out with to an admitted request: pinned_client adds Nats-Pin-Id. */
  deliveryHeader(header: Buffer | null): Buffer | null {
    this.justPinned = null;
    if (this.config.priorityPolicy !== PriorityPolicy.PinnedClient || this.pinId === '') return header;
    return S.withPinId(header, this.pinId);
  }

  /** CONSUMER.UNPIN (reason 'admin') or the pin's timeout ('timeout'): the advisory is sent either way, as nats-server does. */
  unpin(group: string, reason: 'admin' | 'timeout'): void {
    this.clearPin();
    this.host.advise('UNPINNED', { type: 'io.nats.jetstream.advisory.v1.consumer_group_unpinned', group, reason });
    this.host.pinChanged();
  }

  /** ConsumerInfo `priority_groups`: the first group carries the pin (nats-server keeps one pin per consumer). */
  info(): PriorityGroupStateWire[] | undefined {
    const groups = this.config.priorityGroups;
    if (groups.length === 0) return undefined;
    // In nats-server's field order.
    if (this.pinId === '') return [{ group: groups[0], pinned_ts: ZERO_TIME }];
    return [{ group: groups[0], pinned_client_id: this.pinId, pinned_ts: formatTime(this.pinnedAt) }];
  }

  snapshot(): PinStateWire | undefined {
    return this.pinId === '' ? undefined : { id: this.pinId, ts: this.pinnedAt };
  }

  /** After a restart: the saved pin holds for a full priority_timeout from now. */
  restore(pin: PinStateWire | undefined, now: number): void {
    if (pin === undefined || this.config.priorityPolicy !== PriorityPolicy.PinnedClient) return;
    this.pinId = pin.id;
    this.pinnedAt = pin.ts;
    this.pinExpiresAt = now + this.ttlMs();
    this.armPinTimer();
  }

  private pin(r: PullRequest, g: PullGroup, now: number): void {
    this.pinId = randomName(PIN_ID_LENGTH);
    this.pinnedAt = now;
    this.pinExpiresAt = now + this.ttlMs();
    g.id = this.pinId;
    this.justPinned = r;
    this.armPinTimer();
    this.host.advise('PINNED', { type: 'io.nats.jetstream.advisory.v1.consumer_group_pinned', group: g.group, pinned_id: this.pinId });
    this.host.pinChanged();
  }

  private clearPin(): void {
    this.pinId = '';
    this.pinnedAt = 0;
    this.justPinned = null;
  }

  private ttlMs(): number {
    return this.config.priorityTimeout / NS_PER_MS;
  }

  /** One deadline at a time; a renewal only moves pinExpiresAt and the deadline re-arms for it. */
  private armPinTimer(): void {
    if (this.pinArmed) return;
    this.pinArmed = true;
    this.host.scheduler.add(new CallbackDeadline(this.pinExpiresAt, (now) => {
      this.pinArmed = false;
      if (this.pinId === '') return;
      if (now >= this.pinExpiresAt - 1) this.unpin(this.config.priorityGroups[0] ?? '', 'timeout');
      else this.armPinTimer();
    }));
  }
}

function badRequest(text: string): Buffer {
  return S.statusHeader(400, `Bad Request - ${text}`);
}
