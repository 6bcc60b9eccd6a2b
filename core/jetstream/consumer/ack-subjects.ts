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

/** Zeros that pad a fraction's digits (index: how many digits it has) to six. */
const PAD6 = ['000000', '00000', '0000', '000', '00', '0', ''];
/** The last whole millisecond converted: a 13-digit number is no small integer, so its text is costly, and deliveries of messages published together repeat it. */
let lastMs = Number.NaN;
let lastMsText = '';

/** Nanoseconds since the epoch as decimal text, exact beyond 2^53 (ms time has sub-millisecond precision). */
export function nanosText(timeMs: number): string {
  const ms = Math.floor(timeMs);
  let frac = Math.round((timeMs - ms) * 1_000_000);
  if (frac >= 1_000_000) frac = 999_999;
  if (ms !== lastMs) {
    lastMs = ms;
    lastMsText = String(ms);
  }
  const digits = String(frac);
  return lastMsText + PAD6[digits.length] + digits;
}

/** `prefix` is `$JS.ACK.<stream>.<consumer>.`, built once per consumer. */
export function ackSubject(prefix: string, deliveries: number, sseq: number, dseq: number, timeMs: number, pending: number): string {
  return `${prefix}${deliveries}.${sseq}.${dseq}.${nanosText(timeMs)}.${pending}`;
}

/** Dot positions of the subject being parsed; acks are parsed one at a time, so one scratch array serves. */
const dots = new Int32Array(16);

export function parseAckSubject(subject: string): AckReply | null {
  if (!subject.startsWith(ACK_PREFIX)) return null;
  // Token i spans (dots[i], dots[i + 1]); no split, no per-token strings but the two names.
  let n = 0;
  dots[n++] = ACK_PREFIX.length - 1;
  for (let at = subject.indexOf('.', ACK_PREFIX.length); at >= 0 && n < dots.length - 1; at = subject.indexOf('.', at + 1)) dots[n++] = at;
  dots[n] = subject.length;
  // v1: stream consumer delivered sseq dseq ts pending; v2 adds domain and account hash in front (and a token at the end).
  const base = n === 7 ? 0 : n >= 9 ? 2 : -1;
  if (base < 0) return null;
  const deliveries = digitsAt(subject, base + 2);
  const streamSeq = digitsAt(subject, base + 3);
  const consumerSeq = digitsAt(subject, base + 4);
  if (deliveries < 0 || streamSeq < 0 || consumerSeq < 0) return null;
  return { stream: tokenAt(subject, base), consumer: tokenAt(subject, base + 1), deliveries, streamSeq, consumerSeq };
}

/** What a sourcing link reads from a delivered message's reply (NS stream.go ackReplyInfo): the ack fields plus the origin's time and pending count. */
export interface DeliveryReply extends AckReply {
  /** The origin message's time, ms since the epoch (the token is in nanoseconds). */
  timeMs: number;
  /** Messages the consumer still had to deliver after this one. */
  pending: number;
}

export function parseDeliveryReply(subject: string): DeliveryReply | null {
  const ack = parseAckSubject(subject);
  if (ack === null) return null;
  // parseAckSubject left the dot positions of this subject in `dots`: v1 has 8 tokens after $JS.ACK, v2 more.
  const base = dots[7] === subject.length ? 0 : 2;
  const nanos = tokenAt(subject, base + 5);
  const pending = digitsAt(subject, base + 6);
  if (!/^\d{7,}$/.test(nanos) || pending < 0) return null;
  const timeMs = Number(nanos.slice(0, -6)) + Number(nanos.slice(-6)) / 1e6;
  return { ...ack, timeMs, pending };
}

function tokenAt(subject: string, i: number): string {
  return subject.slice(dots[i] + 1, dots[i + 1]);
}

/** The decimal number in token i, or -1 when it is not one (or not a safe integer). */
function digitsAt(subject: string, i: number): number {
  const end = dots[i + 1];
  let at = dots[i] + 1;
  if (at === end) return -1;
  let v = 0;
  for (; at < end; at++) {
    const d = subject.charCodeAt(at) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return Number.isSafeInteger(v) ? v : -1;
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
  readonly kind: AckKind;
  /** -NAK {"delay": ns} in milliseconds; 0 = redeliver now. */
  readonly delayMs: number;
  /** +NXT: the pull request that follows (may be empty = batch 1). */
  readonly next: Buffer;
  /** +TERM reason text. */
  readonly reason: string;
}

/** What follows the ack tag, without the separating space. */
function rest(body: Buffer, tag: number): Buffer {
  const b = body.subarray(tag);
  return b.length > 0 && b[0] === 0x20 ? b.subarray(1) : b;
}

const NONE = Buffer.alloc(0);
const ACK: AckPayload = Object.freeze({ kind: AckKind.Ack, delayMs: 0, next: NONE, reason: '' });
const PROGRESS: AckPayload = Object.freeze({ kind: AckKind.Progress, delayMs: 0, next: NONE, reason: '' });

/** Does `body` start with the 4-byte ASCII tag (as in `+ACK`)? */
function tagged(body: Buffer, tag: number): boolean {
  return body.length >= 4 && body.readUInt32BE(0) === tag;
}

const TAG_ACK = 0x2b41434b; // +ACK
const TAG_WPI = 0x2b575049; // +WPI
const TAG_NXT = 0x2b4e5854; // +NXT
const TAG_NAK = 0x2d4e414b; // -NAK
const TAG_TER = 0x2b544552; // +TER(M)

/** An empty body is an ack; an unknown payload is ignored (null), as nats-server does. */
export function parseAckPayload(body: Buffer): AckPayload | null {
  if (body.length === 0 || tagged(body, TAG_ACK)) return ACK;
  if (tagged(body, TAG_WPI)) return PROGRESS;
  if (tagged(body, TAG_NXT)) return { kind: AckKind.Next, delayMs: 0, next: rest(body, 4), reason: '' };
  if (tagged(body, TAG_NAK)) return { kind: AckKind.Nak, delayMs: nakDelay(rest(body, 4)), next: NONE, reason: '' };
  if (tagged(body, TAG_TER) && body.length >= 5 && body[4] === 0x4d) {
    return { kind: AckKind.Term, delayMs: 0, next: NONE, reason: rest(body, 5).toString('utf8').trim() };
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
