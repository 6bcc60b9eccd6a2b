// Authentication and authorization options, and the mapper from nats-server's
// configuration layout (`authorization { token | user/password | users [...] }`,
// `no_auth_user`; ND running-a-nats-service/configuration/securing_nats/
// authorization.md). Wire names stay in the file; these types are what
// core/auth compiles. Validation happens here, so a bad rule fails at startup
// with the key that holds it.

import { isValidQueueName, isValidSubscriptionSubject } from '../subject/subject.ts';
import { parseAuthCallout, type AuthCalloutOptions } from './auth-callout-options.ts';
import { ConfigError } from './config-error.ts';
import { parseDurationMs } from './duration.ts';
import { isObject } from './setting-values.ts';

export interface SubjectPermissionOptions {
  /** Absent = everything allowed (before deny). Entries are "subject" or "subject queue". */
  allow?: string[];
  deny?: string[];
}

export interface ResponsePermissionOptions {
  /** Responses allowed per request received; nats-server's default is 1. */
  maxMsgs: number;
  /** How long after the request a response may go, ms; 0 = no limit. nats-server's default is 2 minutes. */
  expiresMs: number;
}

export interface PermissionOptions {
  publish?: SubjectPermissionOptions;
  subscribe?: SubjectPermissionOptions;
  allowResponses?: ResponsePermissionOptions;
}

/** Requests a user may make per window (HTTP gateway), e.g. `rate_limit { max: 100, window: "1s" }`. */
export interface RateLimitOptions {
  max: number;
  windowMs: number;
}

export interface UserOptions {
  user: string;
  /** Plain text, or a bcrypt hash ($2a$, $2b$, ...) as nats-server accepts. Absent: only a certificate (verify_and_map) names this user. */
  password?: string;
  permissions?: PermissionOptions;
  rateLimit?: RateLimitOptions;
}

export interface AuthOptions {
  /** A single shared token (plain or bcrypt). Not combinable with users, as in nats-server. */
  token?: string;
  users: UserOptions[];
  /** Clients that send no credentials are this user. */
  noAuthUser?: string;
  /** Applied to users that have no permissions of their own. */
  defaultPermissions?: PermissionOptions;
  /** Every client but `callout.authUsers` is authenticated by an external service (auth-callout-options.ts). */
  callout?: AuthCalloutOptions;
}

export const DEFAULT_RESPONSE_PERMISSION: Readonly<ResponsePermissionOptions> = Object.freeze({ maxMsgs: 1, expiresMs: 120_000 });

type Wire = Record<string, unknown>;

function pick(wire: Wire, names: readonly string[]): [string, unknown] | undefined {
  for (const name of names) if (wire[name] !== undefined) return [name, wire[name]];
  return undefined;
}

function str(value: unknown, key: string): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(key, `must be a non-empty string, got ${JSON.stringify(value)}`);
}

/** "subject" or "subject queue": the subject must be a valid (wildcard) subject. */
function permissionEntry(value: unknown, key: string): string {
  const entry = str(value, key).trim();
  const parts = entry.split(/\s+/);
  if (parts.length > 2) throw new ConfigError(key, `must be "subject" or "subject queue", got ${JSON.stringify(entry)}`);
  if (!isValidSubscriptionSubject(parts[0])) throw new ConfigError(key, `${JSON.stringify(parts[0])} is not a valid subject`);
  if (parts.length === 2 && !isValidQueueName(parts[1])) throw new ConfigError(key, `${JSON.stringify(parts[1])} is not a valid queue name`);
  return parts.join(' ');
}

function entryList(value: unknown, key: string): string[] {
  if (Array.isArray(value)) return value.map((v, i) => permissionEntry(v, `${key}[${i}]`));
  return [permissionEntry(value, key)];
}

/** A list (= allow) or {allow, deny}, each a string or a list. */
function subjectPermission(value: unknown, key: string): SubjectPermissionOptions {
  if (!isObject(value)) return { allow: entryList(value, key) };
  const result: SubjectPermissionOptions = {};
  for (const [name, v] of Object.entries(value)) {
    if (name === 'allow') result.allow = entryList(v, `${key}.allow`);
    else if (name === 'deny') result.deny = entryList(v, `${key}.deny`);
    else throw new ConfigError(`${key}.${name}`, 'unknown key (expected allow or deny)');
  }
  return result;
}

function responsePermission(value: unknown, key: string): ResponsePermissionOptions | undefined {
  if (value === false) return undefined;
  if (value === true) return { ...DEFAULT_RESPONSE_PERMISSION };
  if (!isObject(value)) throw new ConfigError(key, `must be true, false or {max, expires}, got ${JSON.stringify(value)}`);
  const result = { ...DEFAULT_RESPONSE_PERMISSION };
  for (const [name, v] of Object.entries(value)) {
    if (name === 'max' || name === 'max_msgs') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`${key}.${name}`, `must be a non-negative integer, got ${JSON.stringify(v)}`);
      // nats-server: 0 means its default of one response.
      result.maxMsgs = v === 0 ? DEFAULT_RESPONSE_PERMISSION.maxMsgs : v;
    } else if (name === 'expires' || name === 'ttl') {
      const ms = parseDurationMs(v, `${key}.${name}`);
      result.expiresMs = ms === 0 ? DEFAULT_RESPONSE_PERMISSION.expiresMs : ms;
    } else {
      throw new ConfigError(`${key}.${name}`, 'unknown key (expected max or expires)');
    }
  }
  return result;
}

export function parsePermissions(value: unknown, key: string): PermissionOptions {
  if (!isObject(value)) throw new ConfigError(key, `must be an object with publish, subscribe or allow_responses, got ${JSON.stringify(value)}`);
  const result: PermissionOptions = {};
  for (const [name, v] of Object.entries(value)) {
    const at = `${key}.${name}`;
    if (name === 'publish' || name === 'pub') result.publish = subjectPermission(v, at);
    else if (name === 'subscribe' || name === 'sub') result.subscribe = subjectPermission(v, at);
    else if (name === 'allow_responses' || name === 'allow_resp') result.allowResponses = responsePermission(v, at);
    else throw new ConfigError(at, 'unknown key (expected publish, subscribe or allow_responses)');
  }
  return result;
}

function parseRateLimit(value: unknown, key: string): RateLimitOptions {
  if (!isObject(value)) throw new ConfigError(key, 'must be {max, window}, e.g. { max: 100, window: "1s" }');
  for (const name of Object.keys(value)) if (name !== 'max' && name !== 'window') throw new ConfigError(`${key}.${name}`, 'unknown key (expected max or window)');
  const max = value.max;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw new ConfigError(`${key}.max`, `must be a positive integer, got ${JSON.stringify(max)}`);
  const windowMs = value.window === undefined ? 1_000 : parseDurationMs(value.window, `${key}.window`);
  if (windowMs <= 0) throw new ConfigError(`${key}.window`, 'must be longer than 0');
  return { max, windowMs };
}

function parseUser(value: unknown, key: string, certificateUsers: boolean): UserOptions {
  if (!isObject(value)) throw new ConfigError(key, 'must be an object with user and password (or only user, for verify_and_map)');
  const user = pick(value, ['user', 'username']);
  const password = pick(value, ['password', 'pass']);
  if (user === undefined) throw new ConfigError(`${key}.user`, 'is required');
  if (password === undefined && !certificateUsers) throw new ConfigError(`${key}.password`, 'is required (nkeys are not supported; a user without one needs verify_and_map on a listener)');
  for (const name of Object.keys(value)) {
    if (!['user', 'username', 'password', 'pass', 'permissions', 'rate_limit'].includes(name)) throw new ConfigError(`${key}.${name}`, 'unknown key (expected user, password, permissions or rate_limit)');
  }
  // Without a password the user is reached by verify_and_map only (its name is a certificate's email, DNS name or subject).
  const result: UserOptions = { user: str(user[1], `${key}.${user[0]}`) };
  if (password !== undefined) result.password = str(password[1], `${key}.${password[0]}`);
  if (value.permissions !== undefined) result.permissions = parsePermissions(value.permissions, `${key}.permissions`);
  if (value.rate_limit !== undefined) result.rateLimit = parseRateLimit(value.rate_limit, `${key}.rate_limit`);
  return result;
}

/**
 * Map nats-server's `authorization` block and top-level `no_auth_user` into
 * AuthOptions. `keyPrefix` is how the block is named in error messages.
 * `certificateUsers`: some listener has verify_and_map, so a user may come
 * without a password (a certificate names it).
 */
export function parseAuthorization(wire: unknown, noAuthUser: unknown, keyPrefix = 'authorization', certificateUsers = false): AuthOptions {
  const result: AuthOptions = { users: [] };
  if (wire !== undefined) {
    if (!isObject(wire)) throw new ConfigError(keyPrefix, 'must be an object');
    for (const [name, v] of Object.entries(wire)) {
      const at = `${keyPrefix}.${name}`;
      switch (name) {
        case 'token':
          result.token = str(v, at);
          break;
        case 'user':
        case 'username':
        case 'password':
        case 'pass':
          break; // handled below as one single user
        case 'users':
          if (!Array.isArray(v)) throw new ConfigError(at, 'must be a list of users');
          result.users.push(...v.map((u, i) => parseUser(u, `${at}[${i}]`, certificateUsers)));
          break;
        case 'permissions':
        case 'default_permissions':
          result.defaultPermissions = parsePermissions(v, at);
          break;
        case 'timeout':
          break; // the auth timeout is a server option (see server-options)
        case 'auth_callout':
        case 'auth_hook':
          // Only the server's own block: nats-server's mqtt/websocket authorization has no callout.
          if (keyPrefix !== 'authorization') throw new ConfigError(at, 'only the top-level authorization block can have auth_callout');
          result.callout = parseAuthCallout(v, at);
          break;
        default:
          throw new ConfigError(at, 'unknown key (expected token, user, password, users, default_permissions, auth_callout or timeout)');
      }
    }
    const single = pick(wire, ['user', 'username']);
    const singlePass = pick(wire, ['password', 'pass']);
    if (single !== undefined || singlePass !== undefined) {
      if (single === undefined) throw new ConfigError(`${keyPrefix}.user`, 'is required when a password is set');
      if (singlePass === undefined) throw new ConfigError(`${keyPrefix}.password`, 'is required when a user is set');
      result.users.push({ user: str(single[1], `${keyPrefix}.${single[0]}`), password: str(singlePass[1], `${keyPrefix}.${singlePass[0]}`) });
    }
  }
  if (noAuthUser !== undefined) result.noAuthUser = str(noAuthUser, 'no_auth_user');
  validateAuthOptions(result, keyPrefix);
  return result;
}

/** Cross-field rules nats-server also enforces at startup. */
export function validateAuthOptions(auth: AuthOptions, keyPrefix = 'authorization'): void {
  if (auth.token !== undefined && auth.users.length > 0) {
    throw new ConfigError(`${keyPrefix}.token`, 'cannot be combined with users (use one or the other)');
  }
  const seen = new Set<string>();
  auth.users.forEach((u, i) => {
    if (seen.has(u.user)) throw new ConfigError(`${keyPrefix}.users[${i}].user`, `duplicate user ${JSON.stringify(u.user)}`);
    seen.add(u.user);
  });
  if (auth.noAuthUser !== undefined && !seen.has(auth.noAuthUser)) {
    throw new ConfigError('no_auth_user', `${JSON.stringify(auth.noAuthUser)} is not one of the configured users`);
  }
  // nats-server only logs an auth user it cannot find; a service that cannot log in is a broken config.
  auth.callout?.authUsers.forEach((name, i) => {
    if (!seen.has(name)) throw new ConfigError(`${keyPrefix}.auth_callout.auth_users[${i}]`, `${JSON.stringify(name)} is not one of the configured users`);
  });
}
