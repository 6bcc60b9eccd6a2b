// The broker side of Kafka SASL, for the test proxy (kafka-proxy.ts): librdkafka's
// mock cluster has no SASL, so the proxy answers SaslHandshake (api 17) and
// SaslAuthenticate (api 36) itself and checks the credentials, as a broker with
// sasl.enabled.mechanisms would. PLAIN (RFC 4616) and SCRAM-SHA-256/512
// (RFC 5802, RFC 7677: the server proves it knows the password too).

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslUser {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** Kafka's name for a mechanism, as SaslHandshake carries it. */
export function kafkaMechanismName(mechanism: SaslMechanism): string {
  return mechanism.toUpperCase();
}

/** One step's answer: bytes for the client, or a failure; `done` once the client is authenticated. */
export type SaslStep = { ok: true; reply: Buffer; done: boolean } | { ok: false; message: string };

const SCRAM_ITERATIONS = 4096;

/** One connection's exchange: PLAIN takes one step, SCRAM two. */
export class SaslExchange {
  private scram: { clientFirstBare: string; serverFirst: string; nonce: string; salt: Buffer } | null = null;

  constructor(private readonly user: SaslUser) {}

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
