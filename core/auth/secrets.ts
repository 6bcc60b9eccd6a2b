// Checking a presented password or token against the configured one. Plain
// secrets compare in constant time (SHA-256 digests through timingSafeEqual, so
// length leaks nothing either). Bcrypt hashes are accepted as nats-server
// accepts them (NS server/auth.go isBcrypt: "$2", optional a/b/x/y, "$", two
// cost digits, "$").
//
// Why a cache: bcrypt is deliberately slow (tens to hundreds of ms at cost
// 10-11 in pure JS), so repeated connections from the same service would cost
// a check each. Successful checks are remembered as an HMAC under a
// per-process random key (never the password itself), bounded; failures are
// never cached. The authorizers use checkSecret(), which runs an uncached
// bcrypt check on a worker thread (bcrypt-pool.ts) so logins never stall the
// event loop; verifySecret() is the synchronous form.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { bcryptCompare } from './bcrypt-pool.ts';

const BCRYPT_PREFIX = /^\$2[abxy]?\$\d\d\$/;
const VERIFIED_MAX = 1024;
const cacheKey = randomBytes(32);
const verified = new Set<string>();

export function isBcryptHash(secret: string): boolean {
  return secret.startsWith('$') && BCRYPT_PREFIX.test(secret);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time equality of two strings. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function cacheKeyOf(configured: string, presented: string): string {
  return createHmac('sha256', cacheKey).update(configured).update('\0').update(presented).digest('base64');
}

function remember(key: string): void {
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.values().next().value as string);
  verified.add(key);
}

/** Does `presented` match `configured` (plain text or a bcrypt hash)? Synchronous: bcrypt runs on the calling thread. */
export function verifySecret(configured: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  if (!isBcryptHash(configured)) return secretsEqual(configured, presented);
  const key = cacheKeyOf(configured, presented);
  if (verified.has(key)) return true;
  let ok = false;
  try {
    ok = bcrypt.compareSync(presented, configured);
  } catch {
    ok = false; // a malformed hash (e.g. the $2x$ variant bcryptjs does not implement) matches nothing
  }
  if (ok) remember(key);
  return ok;
}

/**
 * The same answer as verifySecret(), at once for plain secrets and remembered
 * bcrypt checks, else as a Promise from a worker thread.
 */
export function checkSecret(configured: string, presented: string | undefined): boolean | Promise<boolean> {
  if (presented === undefined) return false;
  if (!isBcryptHash(configured)) return secretsEqual(configured, presented);
  const key = cacheKeyOf(configured, presented);
  if (verified.has(key)) return true;
  return bcryptCompare(presented, configured).then((ok) => {
    if (ok) remember(key);
    return ok;
  });
}
