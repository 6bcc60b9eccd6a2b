// The broker side of Kafka SASL, for the test proxy (kafka-proxy.ts): librdkafka's
// mock cluster has no SASL, so the proxy answers SaslHandshake (api 17) and
// SaslAuthenticate (api 36) itself and checks the credentials, as a broker with
// sasl.enabled.mechanisms would. PLAIN (RFC 4616) and SCRAM-SHA-256/512
// (RFC 5802, RFC 7677: the server proves it knows the password too).
// Only the non-flexible versions kafkajs uses (v0, v1) are parsed.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { int16, kafkaBytes, kafkaString, responseFrame, skipString } from './kafka-wire.ts';

export const SASL_HANDSHAKE = 17;
export const SASL_AUTHENTICATE = 36;
/** Kafka error codes of the answers. */
const UNSUPPORTED_SASL_MECHANISM = 33;
const SASL_AUTHENTICATION_FAILED = 58;

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslUser {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** Kafka's name for a mechanism, as SaslHandshake carries it. */
function kafkaMechanismName(mechanism: SaslMechanism): string {
  return mechanism.toUpperCase();
}

/** One step's answer: bytes for the client, or a failure; `done` once the client is authenticated. */
export type SaslStep = { ok: true; reply: Buffer; done: boolean } | { ok: false; message: string };

const SCRAM_ITERATIONS = 4096;

/** One connection's exchange: PLAIN takes one step, SCRAM two. */
export class SaslExchange {
  private scram: { clientFirstBare: string; serverFirst: string; nonce: string; salt: Buffer } | null = null;

  constructor(readonly user: SaslUser) {}

  step(token: Buffer): SaslStep {
    if (this.user.mechanism === 'plain') return this.plain(token);
    return this.scram === null ? this.scramFirst(token.toString('utf8')) : this.scramFinal(token.toString('utf8'));
  }

  private plain(token: Buffer): SaslStep {
    // authzid NUL authcid NUL passwd
    const [, username, password] = token.toString('utf8').split('\0');
    if (username !== this.user.username || password !== this.user.password) return { ok: false, message: `Authentication failed: Invalid username or password` };
    return { ok: true, reply: Buffer.alloc(0), done: true };
  }

  private hash(): 'sha256' | 'sha512' {
    return this.user.mechanism === 'scram-sha-256' ? 'sha256' : 'sha512';
  }

  private scramFirst(clientFirst: string): SaslStep {
    // gs2 header "n,," then "n=<user>,r=<client nonce>"
    const match = /^n,[^,]*,(n=([^,]*),r=([^,]+).*)$/.exec(clientFirst);
    if (match === null) return { ok: false, message: 'Authentication failed: malformed SCRAM client-first message' };
    if (match[2].replaceAll('=2C', ',').replaceAll('=3D', '=') !== this.user.username) return { ok: false, message: 'Authentication failed: Invalid user credentials' };
    const nonce = match[3] + randomBytes(18).toString('base64');
    const salt = randomBytes(16);
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${SCRAM_ITERATIONS}`;
    this.scram = { clientFirstBare: match[1], serverFirst, nonce, salt };
    return { ok: true, reply: Buffer.from(serverFirst), done: false };
  }

  private scramFinal(clientFinal: string): SaslStep {
    const state = this.scram;
    const match = /^(c=[^,]+,r=([^,]+)),p=([^,]+)$/.exec(clientFinal);
    if (state === null || match === null || match[2] !== state.nonce) return { ok: false, message: 'Authentication failed: malformed SCRAM client-final message' };
    const hash = this.hash();
    const hmac = (key: Buffer, text: string): Buffer => createHmac(hash, key).update(text).digest();
    const salted = pbkdf2Sync(this.user.password, state.salt, SCRAM_ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
    const authMessage = `${state.clientFirstBare},${state.serverFirst},${match[1]}`;
    const storedKey = createHash(hash).update(hmac(salted, 'Client Key')).digest();
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(match[3], 'base64');
    if (proof.length !== signature.length) return { ok: false, message: 'Authentication failed: Invalid user credentials' };
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
    if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), storedKey)) return { ok: false, message: 'Authentication failed: Invalid user credentials' };
    const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return { ok: true, reply: Buffer.from(`v=${serverSignature.toString('base64')}`), done: true };
  }
}

/** ApiVersions (v0-v2) with SaslHandshake and SaslAuthenticate (v0-v1) added: the mock does not list them. */
export function withSaslApis(frame: Buffer): Buffer {
  const count = frame.readInt32BE(10);
  const end = 14 + count * 6;
  const listed = new Set<number>();
  for (let at = 14; at < end; at += 6) listed.add(frame.readInt16BE(at));
  const extra = [SASL_HANDSHAKE, SASL_AUTHENTICATE].filter((api) => !listed.has(api));
  const added = Buffer.alloc(extra.length * 6);
  extra.forEach((api, i) => {
    added.writeInt16BE(api, i * 6);
    added.writeInt16BE(0, i * 6 + 2);
    added.writeInt16BE(1, i * 6 + 4);
  });
  const out = Buffer.concat([frame.subarray(0, end), added, frame.subarray(end)]);
  out.writeInt32BE(out.length - 4, 0);
  out.writeInt32BE(count + extra.length, 10);
  return out;
}

/** The answer to a whole SaslHandshake or SaslAuthenticate request frame, and whether the client is now authenticated. */
export function answerSaslRequest(frame: Buffer, exchange: SaslExchange): { reply: Buffer; authenticated: boolean } {
  const apiKey = frame.readInt16BE(4);
  const version = frame.readInt16BE(6);
  const correlation = frame.readInt32BE(8);
  const body = skipString(frame, 12);
  if (apiKey === SASL_HANDSHAKE) {
    const asked = frame.toString('utf8', body + 2, body + 2 + frame.readInt16BE(body));
    const supported = kafkaMechanismName(exchange.user.mechanism);
    const count = Buffer.alloc(4);
    count.writeInt32BE(1, 0);
    const reply = responseFrame(correlation, Buffer.concat([int16(asked === supported ? 0 : UNSUPPORTED_SASL_MECHANISM), count, kafkaString(supported)]));
    return { reply, authenticated: false };
  }
  const token = frame.subarray(body + 4, body + 4 + frame.readInt32BE(body));
  const step = exchange.step(token);
  const parts = [int16(step.ok ? 0 : SASL_AUTHENTICATION_FAILED), kafkaString(step.ok ? null : step.message), kafkaBytes(step.ok ? step.reply : Buffer.alloc(0))];
  if (version >= 1) parts.push(Buffer.alloc(8)); // session_lifetime_ms 0: no re-authentication
  return { reply: responseFrame(correlation, Buffer.concat(parts)), authenticated: step.ok && step.done };
}
