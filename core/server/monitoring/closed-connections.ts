// The most recent closed connections, for /connz?state=closed (nats-server
// keeps max_closed_clients, 10,000 by default). A bounded ring fed by the
// server observer: one snapshot per close, nothing on the message path.
// Unlike nats-server, the snapshot has no subscriptions: the client has
// already released them when the close is reported.

import type { CloseReason } from '../close-reason.ts';
import type { NatsClient } from '../nats-client.ts';
import type { ServerObserver } from '../nats-server.ts';
import { connInfo, connRow, type ConnRow } from './connz.ts';

export const DEFAULT_MAX_CLOSED = 10_000;

export class ClosedConnections {
  private readonly ring: ConnRow[] = [];
  private next = 0;

  constructor(readonly max = DEFAULT_MAX_CLOSED) {}

  record(client: NatsClient, reason: CloseReason): void {
    if (this.max <= 0) return;
    const now = Date.now();
    // The info is fixed at close: built once, without subscriptions (see above).
    const info = connInfo(client, now, 'none', true);
    info.stop = new Date(now).toISOString();
    info.reason = reason;
    const row: ConnRow = {
      ...connRow(client, now),
      stopMs: now,
      reason,
      render: (_subs, withAuth) => {
        if (withAuth || info.authorized_user === undefined) return { ...info };
        const { authorized_user: _hidden, ...rest } = info;
        return rest;
      },
    };
    if (this.ring.length < this.max) this.ring.push(row);
    else this.ring[this.next] = row;
    this.next = (this.next + 1) % this.max;
  }

  /** Oldest first. */
  rows(): ConnRow[] {
    return this.ring.length < this.max ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  get observer(): ServerObserver {
    return { clientClosed: (client, reason) => this.record(client, reason) };
  }
}

/** Several observers as one (logs, closed-connection records, ...). */
export function combineObservers(...observers: ServerObserver[]): ServerObserver {
  return {
    clientOpened: (c) => observers.forEach((o) => o.clientOpened?.(c)),
    clientClosed: (c, r) => observers.forEach((o) => o.clientClosed?.(c, r)),
    authFailed: (c) => observers.forEach((o) => o.authFailed?.(c)),
    slowConsumer: (c) => observers.forEach((o) => o.slowConsumer?.(c)),
  };
}
