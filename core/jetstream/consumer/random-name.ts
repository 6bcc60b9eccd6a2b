// Random base-62 names: generated consumer names (8 characters, as
// nats-server's createConsumerName) and pin ids (22, the length of
// nats-server's nuid, ADR-42).

import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomName(length = 8): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}
