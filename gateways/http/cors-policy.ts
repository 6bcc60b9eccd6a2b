// CORS as a configured policy (issue 26): browsers on other origins may call the
// gateway only when `http_gateway { cors { allowed_origins, credentials, max_age } }`
// names their origin. Without the block no response carries Access-Control-*
// headers and a preflight is refused, so the default stays same-origin.
// The mechanics (preflight, Vary, reflected request headers) are @fastify/cors:
// they are easy to get subtly wrong by hand.

import type { FastifyCorsOptions } from '@fastify/cors';
import { ConfigError } from '../../core/config/config-error.ts';
import { parseDurationMs } from '../../core/config/duration.ts';
import { bool, isObject, text } from '../../core/config/setting-values.ts';

export interface CorsPolicy {
  /** Exact origins (`https://app.example:8443`), or '*' for any (not with credentials). */
  readonly allowedOrigins: readonly string[] | '*';
  /** Browsers may send cookies (the login session) and read credentialed answers. */
  readonly credentials: boolean;
  /** How long a browser may cache a preflight answer, in seconds (default 600). */
  readonly maxAgeSeconds: number;
}

/** Response headers a page may read: revisions, PubAck and rate-limit details. */
const EXPOSED_HEADERS = ['ETag', 'Retry-After', 'X-Kv-Revision', 'X-Kv-Created', 'X-Kv-Operation', 'X-Object-Digest', 'X-Nats-Status', 'X-Nats-Stream', 'Location'];

/** The `cors` block of `http_gateway`, checked key by key. */
export function parseCorsPolicy(value: unknown, key: string): CorsPolicy {
  if (!isObject(value)) throw new ConfigError(key, 'must be { allowed_origins, credentials, max_age }');
  for (const name of Object.keys(value)) {
    if (!['allowed_origins', 'credentials', 'max_age'].includes(name)) throw new ConfigError(`${key}.${name}`, 'unknown key (expected allowed_origins, credentials or max_age)');
  }
  const raw = value.allowed_origins;
  if (raw === undefined) throw new ConfigError(`${key}.allowed_origins`, 'is required: a list of origins such as "https://app.example", or "*"');
  const credentials = value.credentials === undefined ? false : bool(value.credentials, `${key}.credentials`);
  let allowedOrigins: readonly string[] | '*';
  if (raw === '*') {
    // The Fetch standard refuses `*` on credentialed requests: say so at startup, not in a browser console.
    if (credentials) throw new ConfigError(`${key}.allowed_origins`, '"*" cannot be combined with credentials: true; list the origins');
    allowedOrigins = '*';
  } else {
    const list = Array.isArray(raw) ? raw : [raw];
    allowedOrigins = list.map((origin, i) => {
      const at = `${key}.allowed_origins[${i}]`;
      const given = text(origin, at);
      let parsed: URL;
      try {
        parsed = new URL(given);
      } catch {
        throw new ConfigError(at, `${JSON.stringify(given)} is not an origin (scheme://host[:port])`);
      }
      if (parsed.origin !== given.replace(/\/$/, '')) throw new ConfigError(at, `${JSON.stringify(given)} is not an origin: use ${JSON.stringify(parsed.origin)}`);
      return parsed.origin;
    });
  }
  const maxAgeSeconds = value.max_age === undefined ? 600 : Math.floor(parseDurationMs(value.max_age, `${key}.max_age`) / 1000);
  return { allowedOrigins, credentials, maxAgeSeconds };
}

/** @fastify/cors options for the policy; registered on the root instance they cover every route (preflight included). */
export function corsOptions(policy: CorsPolicy): FastifyCorsOptions {
  const allowed = policy.allowedOrigins === '*' ? null : new Set(policy.allowedOrigins);
  return {
    // false = no CORS headers at all for an origin not listed; the browser then blocks the page.
    origin: allowed === null ? '*' : (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: policy.credentials,
    maxAge: policy.maxAgeSeconds,
    exposedHeaders: EXPOSED_HEADERS,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    strictPreflight: true,
  };
}
