// Ack reply subjects and ack payloads (NS consumer.go; ADR-13 for +NXT).
// A delivered message carries `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`
// as its reply; the client publishes one of the payloads below to it. The v2
// form (`$JS.ACK.<domain>.<account hash>.<stream>...`) is parsed too, so
// clients that echo it back still reach the consumer.

export const ACK_PREFIX = '$JS.ACK.';

export interface AckReply {
  stream: string;
  consumer: string;
  /** How many times this message has been delivered, this delivery included. */
  deliveries: number;
  streamSeq: number;
  consumerSeq: number;
}

/** Nanoseconds since the epoch as decimal text, exact beyond 2^53 (ms time has sub-ms precision). */
export function nanosText(timeMs: number): string {
  const ms = Math.floor(timeMs);
  let frac = Math.round((timeMs - ms) * 1_000_000);
  if (frac >= 1_000_000) frac = 999_999;
  return `${ms}${String(frac).padStart(6, '0')}`;
}

/** `prefix` is `$JS.ACK.<stream>.<consumer>.`, built once per consumer. */
export function ackSubject(prefix: string, deliveries: number, sseq: number, dseq: number, timeMs: number, pending: number): string {
  return `${prefix}${deliveries}.${sseq}.${dseq}.${nanosText(timeMs)}.${pending}`;
}

export function parseAckSubject(subject: string): AckReply | null {
  if (!subject.startsWith(ACK_PREFIX)) return null;
  const t = subject.slice(ACK_PREFIX.length).split('.');
  // v1: stream consumer delivered sseq dseq ts pending; v2 adds domain and account hash in front (and a token at the end).
  const base = t.length === 7 ? 0 : t.length >= 9 ? 2 : -1;
  if (base < 0) return null;
  const deliveries = Number(t[base + 2]);
  const streamSeq = Number(t[base + 3]);
  const consumerSeq = Number(t[base + 4]);
  if (!Number.isSafeInteger(deliveries) || !Number.isSafeInteger(streamSeq) || !Number.isSafeInteger(consumerSeq)) return null;
  return { stream: t[base], consumer: t[base + 1], deliveries, streamSeq, consumerSeq };
}

export const AckKind = {
  Ack: 'ack',
  Nak: 'nak',
  Progress: 'progress',
  Next: 'next',
  Term: 'term',
} as const;
export type AckKind = (typeof AckKind)[keyof typeof AckKind];

export interface AckPayload {
  kind: AckKind;
  /** -NAK {"delay": ns} in milliseconds; 0 = redeliver now. */
  delayMs: number;
  /** +NXT: the pull request that follows (may be empty = batch 1). */
  next: Buffer;
  /** +TERM reason text. */
  reason: string;
}

/** What follows the ack tag, without the separating space. */
function rest(body: Buffer, tag: number): Buffer {
  const b = body.subarray(tag);
  return b.length > 0 && b[0] === 0x20 ? b.subarray(1) : b;
}

/** An empty body is an ack; an unknown payload is ignored (null), as nats-server does. */
export function parseAckPayload(body: Buffer): AckPayload | null {
  const none = { delayMs: 0, next: Buffer.alloc(0), reason: '' };
  if (body.length === 0) return { kind: AckKind.Ack, ...none };
  const tag = body.toString('latin1', 0, Math.min(body.length, 4));
  if (tag === '+ACK') return { kind: AckKind.Ack, ...none };
  if (tag === '+WPI') return { kind: AckKind.Progress, ...none };
  if (tag === '+NXT') return { kind: AckKind.Next, ...none, next: rest(body, 4) };
  if (tag === '-NAK') return { kind: AckKind.Nak, ...none, delayMs: nakDelay(rest(body, 4)) };
  if (tag === '+TER' && body.toString('latin1', 0, Math.min(body.length, 5)) === '+TERM') {
    return { kind: AckKind.Term, ...none, reason: rest(body, 5).toString('utf8').trim() };
  }
  return null;
}

function nakDelay(b: Buffer): number {
  const text = b.toString('utf8').trim();
  if (text === '') return 0;
  try {
    const v = JSON.parse(text) as { delay?: unknown };
    if (typeof v === 'object' && v !== null && typeof v.delay === 'number' && v.delay > 0) return v.delay / 1_000_000;
  } catch {
    // nats-server also accepts a Go duration string ("-NAK 2s"); not supported here, the NAK stays immediate.
  }
  return 0;
}
