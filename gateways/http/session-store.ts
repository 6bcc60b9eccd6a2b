// Browser sessions: an EventSource cannot send an Authorization header, and
// credentials in URLs are refused (auth.ts), so a page logs in once with the
// header (POST /v1/login) and gets an opaque session id in an HttpOnly,
// SameSite=Strict cookie. The id is 256 random bits and names a Principal kept
// here, so it is revocable (logout, or every session of a user) and expires.
// Sessions live in this gateway's memory: behind a load balancer of several
// gateways, a session is valid on the gateway that created it.

import { randomBytes } from 'node:crypto';
import type { Principal } from '../../core/auth/authorizer.ts';

export const SESSION_COOKIE = 'switchboard_session';

export interface SessionOptions {
  /** How long a session lasts from login, in ms (default 1 h). */
  ttlMs?: number;
  /** Sessions kept at most; the oldest is dropped past it (default 10,000). */
  maxSessions?: number;
}

export interface Session {
  readonly id: string;
  readonly principal: Principal;
  readonly expiresAt: number;
}

export class SessionStore {
  /** Insertion order = creation order, so the first entry is the oldest. */
  private readonly sessions = new Map<string, Session>();
  readonly ttlMs: number;
  private readonly maxSessions: number;

  constructor(options: SessionOptions = {}) {
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.maxSessions = options.maxSessions ?? 10_000;
  }

  create(principal: Principal, now = Date.now()): Session {
    const session: Session = { id: randomBytes(32).toString('base64url'), principal, expiresAt: now + this.ttlMs };
    this.sessions.set(session.id, session);
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    return session;
  }

  /** The live session with this id, or null (unknown, revoked or expired). */
  get(id: string, now = Date.now()): Session | null {
    const session = this.sessions.get(id);
    if (session === undefined) return null;
    if (session.expiresAt <= now) {
      this.sessions.delete(id);
      return null;
    }
    return session;
  }

  revoke(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** End every session of a user (e.g. their password changed); returns how many. */
  revokeUser(name: string): number {
    let count = 0;
    for (const [id, session] of this.sessions) {
      if (session.principal.name === name) {
        this.sessions.delete(id);
        count++;
      }
    }
    return count;
  }

  /** End every session (a config reload: credentials are checked anew). */
  clear(): void {
    this.sessions.clear();
  }

  get size(): number {
    return this.sessions.size;
  }
}
