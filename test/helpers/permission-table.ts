// One permission table for every protocol (issue 4). The users and rules are in
// nats-server's configuration layout, so the same file configures Debian's
// nats-server and Switchboard. Each protocol supplies a PermissionAdapter
// (connect as a user, try a publish or a subscribe on a NATS subject; see
// permission-adapters.ts) and runs PERMISSION_CASES through it with
// describePermissionTable (CONVENTIONS 2); gateways map their own topics/paths
// to these subjects before asking, exactly as they do in production.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';

export const PASSWORDS = {
  admin: 'admin-pw',
  orders: 'orders-pw',
  worker: 'worker-pw',
  reader: 'reader-pw',
  service: 'service-pw',
} as const;
export type TableUser = keyof typeof PASSWORDS | 'guest';

/** nats-server configuration (JSON is valid nats-server config syntax). */
export function permissionConfig(): Record<string, unknown> {
  return {
    authorization: {
      users: [
        { user: 'admin', password: PASSWORDS.admin },
        {
          user: 'orders',
          password: PASSWORDS.orders,
          permissions: {
            publish: { allow: ['orders.>'], deny: ['orders.secret.*'] },
            subscribe: ['_INBOX.>', 'orders.*'],
          },
        },
        { user: 'worker', password: PASSWORDS.worker, permissions: { subscribe: ['jobs.* workers', 'status.>'] } },
        {
          user: 'reader',
          password: PASSWORDS.reader,
          permissions: { publish: { deny: ['>'] }, subscribe: { allow: ['data.>'], deny: ['data.private.>'] } },
        },
        {
          user: 'service',
          // A bcrypt hash, as `nats server passwd` produces; low cost keeps the test fast.
          password: bcrypt.hashSync(PASSWORDS.service, 6),
          permissions: { subscribe: ['svc.echo'], allow_responses: true },
        },
        { user: 'guest', password: 'guest-pw', permissions: { publish: ['public.>'], subscribe: ['public.>', '_INBOX.>'] } },
      ],
    },
    no_auth_user: 'guest',
  };
}

export interface PermissionCase {
  readonly user: TableUser;
  readonly action: 'publish' | 'subscribe';
  readonly subject: string;
  readonly queue?: string;
  readonly allowed: boolean;
}

export const PERMISSION_CASES: readonly PermissionCase[] = [
  { user: 'admin', action: 'publish', subject: 'anything.at.all', allowed: true },
  { user: 'admin', action: 'subscribe', subject: '>', allowed: true },
  // publish {allow, deny}
  { user: 'orders', action: 'publish', subject: 'orders.new', allowed: true },
  { user: 'orders', action: 'publish', subject: 'orders.eu.new', allowed: true },
  { user: 'orders', action: 'publish', subject: 'orders.secret.x', allowed: false },
  { user: 'orders', action: 'publish', subject: 'orders.secret.x.y', allowed: true },
  { user: 'orders', action: 'publish', subject: 'payments.new', allowed: false },
  { user: 'orders', action: 'publish', subject: 'orders', allowed: false },
  // subscribe as a list, wildcards in rules and in the subscription
  { user: 'orders', action: 'subscribe', subject: 'orders.new', allowed: true },
  { user: 'orders', action: 'subscribe', subject: 'orders.*', allowed: true },
  { user: 'orders', action: 'subscribe', subject: 'orders.a.b', allowed: false },
  { user: 'orders', action: 'subscribe', subject: '_INBOX.abc.1', allowed: true },
  { user: 'orders', action: 'subscribe', subject: 'payments.*', allowed: false },
  { user: 'orders', action: 'subscribe', subject: 'orders.new', queue: 'q', allowed: true },
  // queue permissions "subject queue"
  { user: 'worker', action: 'subscribe', subject: 'jobs.build', queue: 'workers', allowed: true },
  { user: 'worker', action: 'subscribe', subject: 'jobs.build', queue: 'others', allowed: false },
  { user: 'worker', action: 'subscribe', subject: 'jobs.build', allowed: false },
  { user: 'worker', action: 'subscribe', subject: 'status.x.y', allowed: true },
  { user: 'worker', action: 'subscribe', subject: 'status.x', queue: 'any', allowed: true },
  { user: 'worker', action: 'publish', subject: 'jobs.build', allowed: true },
  // subscribe {allow, deny}; publish deny everything
  { user: 'reader', action: 'subscribe', subject: 'data.>', allowed: true },
  { user: 'reader', action: 'subscribe', subject: 'data.public.x', allowed: true },
  { user: 'reader', action: 'subscribe', subject: 'data.private.x', allowed: false },
  { user: 'reader', action: 'subscribe', subject: 'data.private.>', allowed: false },
  { user: 'reader', action: 'subscribe', subject: '>', allowed: false },
  { user: 'reader', action: 'publish', subject: 'data.public.x', allowed: false },
  // allow_responses alone: no publish grant
  { user: 'service', action: 'subscribe', subject: 'svc.echo', allowed: true },
  { user: 'service', action: 'subscribe', subject: 'svc.other', allowed: false },
  { user: 'service', action: 'publish', subject: 'svc.echo', allowed: false },
  { user: 'service', action: 'publish', subject: '_INBOX.never.asked', allowed: false },
  // no_auth_user: a client without credentials is "guest"
  { user: 'guest', action: 'publish', subject: 'public.news', allowed: true },
  { user: 'guest', action: 'publish', subject: 'private.news', allowed: false },
  { user: 'guest', action: 'subscribe', subject: 'public.>', allowed: true },
  { user: 'guest', action: 'subscribe', subject: 'private.>', allowed: false },
];

/** One protocol's way of acting as a user. */
export interface PermissionSession {
  /** Resolves true when the server accepted the operation, false when it refused it. */
  publish(subject: string): Promise<boolean>;
  subscribe(subject: string, queue?: string): Promise<boolean>;
  close(): void;
}

export interface PermissionAdapter {
  readonly protocol: string;
  /** Connect as `user`; 'guest' connects without credentials (no_auth_user). */
  connectAs(user: TableUser): Promise<PermissionSession>;
}

export function describeCase(c: PermissionCase): string {
  const what = c.queue === undefined ? c.subject : `${c.subject} (queue ${c.queue})`;
  return `${c.user} ${c.allowed ? 'may' : 'may not'} ${c.action} ${what}`;
}

/**
 * Every case of the table through one protocol, one session per user.
 * `adapter` is called once, when the first case runs (the server starts in a
 * `before` of the caller).
 */
export function describePermissionTable(name: string, adapter: () => PermissionAdapter): void {
  describe(`permission table (${name})`, () => {
    const sessions = new Map<TableUser, PermissionSession>();
    after(() => {
      for (const s of sessions.values()) s.close();
    });
    for (const c of PERMISSION_CASES) {
      it(`permissions - ${describeCase(c)}`, async () => {
        let session = sessions.get(c.user);
        if (session === undefined) {
          session = await adapter().connectAs(c.user);
          sessions.set(c.user, session);
        }
        const allowed = c.action === 'publish' ? await session.publish(c.subject) : await session.subscribe(c.subject, c.queue);
        assert.equal(allowed, c.allowed, describeCase(c));
      });
    }
  });
}
