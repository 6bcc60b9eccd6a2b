// Checking a presented password or token against the configured one. Plain
// secrets compare in constant time (SHA-256 digests through timingSafeEqual, so
// length leaks nothing either). Bcrypt hashes are accepted as nats-server
// accepts them (NS server/auth.go isBcrypt: "$2", optional a/b/x/y, "$", two
// cost digits, "$").
//
// Why a cache: bcrypt is deliberately slow (tens to hundreds of ms at cost
// 10-11 in pure JS) and authentication runs on the event loop, so repeated
// connections from the same service would stall every other client. Successful
// checks are remembered as an HMAC under a per-process random key (never the
// password itself), bounded; failures are never cached.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

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

/** Does `presented` match `configured` (plain text or a bcrypt hash)? */
export function verifySecret(configured: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  if (!isBcryptHash(configured)) return secretsEqual(configured, presented);
  const key = createHmac('sha256', cacheKey).update(configured).update('\0').update(presented).digest('base64');
  if (verified.has(key)) return true;
  let ok = false;
  try {
    ok = bcrypt.compareSync(presented, configured);
  } catch {
    ok = false; // a malformed hash (e.g. the $2x$ variant bcryptjs does not implement) matches nothing
  }
  if (ok) {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.values().next().value as string);
    verified.add(key);
  }
  return ok;
}
