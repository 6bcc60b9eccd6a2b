// HTTP credentials -> the shared user model (DESIGN seam 5). `Authorization:
// Bearer <token>` or `Basic base64(user:pass)` is authenticated by the same
// Authorizer NATS clients use, so the same Principal and permissions apply.
// Credentials are read from the header only: a URL ends up in access logs,
// proxies and browser history, so query credentials are refused outright.
// A browser session cookie (session-store.ts) stands in for the header on
// GET and HEAD only (EventSource, reads): a cookie rides along on requests
// other pages make, so it never authorizes a write (CSRF), except logging out.

import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { Authorizer, AuthResult, Credentials, Principal } from '../../core/auth/authorizer.ts';
import { certificateCredentials } from '../../core/connection/peer-certificate.ts';
import { HttpProblem } from './errors.ts';
import { SESSION_COOKIE, type SessionStore } from './session-store.ts';

export const URL_CREDENTIAL_PARAMS = ['token', 'auth_token', 'access_token', 'authorization', 'password', 'pass'];

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every authenticated route. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The session cookie may authenticate this route whatever its method (logout). */
    sessionWrites?: boolean;
  }
}

const SESSION_METHODS = new Set(['GET', 'HEAD']);

export function parseAuthorization(header: string | undefined): Credentials | null {
  if (header === undefined || header.trim() === '') return null;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer' && value !== '') return { token: value };
  if (scheme === 'basic' && value !== '') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { user: decoded, pass: '' };
    return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
  }
  return {}; // an unknown scheme is wrong credentials, not missing ones
}

export interface PrincipalCacheOptions {
  /** How many distinct credentials to remember (default 1024). */
  maxEntries?: number;
  /** How long a successful authentication is reused, in ms (default 30 s; 0 disables). */
  ttlMs?: number;
  /**
   * verify_and_map: the client certificate alone names the user; the
   * Authorization header is not read. The Principal lives as long as the TLS
   * connection, as a NATS client's does.
   */
  mapCertificate?: boolean;
}

/**
 * Authenticates each request. Successful results are cached briefly by a hash of
 * the header (never the header itself), because password checks (bcrypt) are
 * deliberately slow and HTTP clients send credentials on every request. A cached
 * Principal is the HTTP analogue of a NATS connection: per-connection state such
 * as allow_responses (a request seen on a stream may be answered by a POST) lives
 * as long as the entry.
 */
export class HttpAuthenticator {
  private readonly cache = new Map<string, { principal: Principal; expires: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly mapCertificate: boolean;
  private bySocket = new WeakMap<Socket, Principal>();

  constructor(
    private readonly authorizer: Authorizer,
    options: PrincipalCacheOptions = {},
    readonly sessions: SessionStore | null = null,
  ) {
    this.maxEntries = options.maxEntries ?? 1024;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.mapCertificate = options.mapCertificate === true;
    // After a config reload every request authenticates again: a changed password or rule applies at once.
    // Browser sessions were granted under the old rules too: their users log in again.
    authorizer.onReload?.(() => {
      this.cache.clear();
      this.bySocket = new WeakMap();
      this.sessions?.clear();
    });
  }

  private certificatePrincipal(socket: Socket): Principal | Promise<Principal> {
    const known = this.bySocket.get(socket);
    if (known !== undefined) return known;
    const credentials = certificateCredentials(socket as TLSSocket);
    return settle(credentials === undefined ? null : this.authorizer.authenticate(credentials), (principal) => {
      if (principal === null) throw new HttpProblem('unauthorized', 'the client certificate maps to no user');
      this.bySocket.set(socket, principal);
      return principal;
    });
  }

  /** verify_and_map: the client certificate is the credential. */
  get usesCertificates(): boolean {
    return this.mapCertificate;
  }

  /** A Promise while a password is checked with bcrypt (on a worker thread), else the Principal at once. */
  authenticate(request: FastifyRequest): Principal | Promise<Principal> {
    const query = request.query as Record<string, unknown> | undefined;
    if (query !== undefined && query !== null) {
      for (const name of URL_CREDENTIAL_PARAMS) {
        if (name in query) throw new HttpProblem('credentials_in_url', `query parameter ${JSON.stringify(name)} looks like a credential; send it in the Authorization header`);
      }
    }
    if (this.mapCertificate) return this.certificatePrincipal(request.raw.socket);
    const header = request.headers.authorization;
    const credentials = parseAuthorization(header);
    if (credentials === null) {
      const cookie = this.sessions === null ? undefined : request.cookies?.[SESSION_COOKIE];
      const sessionApplies = SESSION_METHODS.has(request.method) || request.routeOptions.config.sessionWrites === true;
      if (cookie !== undefined && sessionApplies) {
        const session = this.sessions?.get(cookie) ?? null;
        if (session === null) throw new HttpProblem('unauthorized', 'the session has expired or was revoked: log in again (POST /v1/login)');
        return session.principal;
      }
      if (this.authorizer.authRequired) {
        const hint = cookie === undefined ? '' : ' (a session cookie authenticates GET and HEAD only)';
        throw new HttpProblem('unauthorized', `credentials required: send Authorization: Bearer <token> or Basic${hint}`);
      }
      return settle(this.authorizer.authenticate({}), (anonymous) => {
        if (anonymous === null) throw new HttpProblem('unauthorized', 'credentials required');
        return anonymous;
      });
    }
    const key = createHash('sha256').update(header as string).digest('base64');
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      if (hit.expires > now) {
        this.cache.set(key, hit); // most recently used last
        return hit.principal;
      }
    }
    // For an authorizer that asks a service (auth callout's client_info).
    credentials.client = { type: 'http', host: request.ip };
    return settle(this.authorizer.authenticate(credentials), (principal) => {
      if (principal === null) throw new HttpProblem('unauthorized', 'invalid credentials');
      if (this.ttlMs > 0) {
        this.cache.set(key, { principal, expires: now + this.ttlMs });
        if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      }
      return principal;
    });
  }
}

/** Apply `then` to an authentication result now, or when its bcrypt check is done. */
function settle(result: AuthResult, then: (principal: Principal | null) => Principal): Principal | Promise<Principal> {
  return result instanceof Promise ? result.then(then) : then(result);
}

export function requirePublish(principal: Principal, subject: string): void {
  if (!principal.canPublish(subject)) {
    throw new HttpProblem('permission_denied', `permissions violation for publish to ${JSON.stringify(subject)}`, { subject, operation: 'publish', principal: principal.name });
  }
}

export function requireSubscribe(principal: Principal, subject: string, queue: string | null): void {
  if (!principal.canSubscribe(subject, queue)) {
    throw new HttpProblem('permission_denied', `permissions violation for subscription to ${JSON.stringify(subject)}`, {
      subject,
      operation: 'subscribe',
      principal: principal.name,
      ...(queue === null ? {} : { queue }),
    });
  }
}

/**
 * The URL as it may be logged: values of credential-like query parameters are
 * replaced, so a client that puts a token in the URL (refused with 400 anyway)
 * does not leave it in the gateway's logs either.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' ')).toLowerCase();
      return URL_CREDENTIAL_PARAMS.includes(name) ? `${eq < 0 ? pair : pair.slice(0, eq)}=[REDACTED]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}
