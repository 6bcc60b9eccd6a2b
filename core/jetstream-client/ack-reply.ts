// The reply subject of a JetStream delivery, read by a client of the JetStream
// API (a KV watch, the HTTP gateway's consumers): one parser for both.
//   v1: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (9 tokens)
//   v2: domain and account hash after `ACK` (11 tokens; 12 with a trailing token)

export interface AckReply {
  readonly subject: string;
  readonly stream: string;
  readonly consumer: string;
  /** Times this message has been delivered. */
  readonly delivered: number;
  readonly streamSeq: number;
  readonly consumerSeq: number;
  /** When the message was stored, in ms since the epoch. */
  readonly timestampMs: number;
  /** The same, in nanoseconds since the epoch: the subject's digits as they are. */
  readonly timestampNanos: string;
  /** Messages left for the consumer after this one. */
  readonly pending: number;
}

const DIGITS = /^\d+$/;

/** What `subject` says, or null when it is not an ack reply subject. */
export function parseAckReply(subject: string): AckReply | null {
  const t = subject.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return null;
  const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (base < 0) return null;
  const [stream, consumer, delivered, sseq, cseq, ts, pending] = t.slice(base, base + 7);
  if (![delivered, sseq, cseq, ts, pending].every((token) => DIGITS.test(token))) return null;
  // Nanoseconds to milliseconds on the digits: a BigInt per delivery costs more than the rest of this parse.
  const timestampMs = ts.length > 6 ? Number(ts.slice(0, -6)) : 0;
  return { subject, stream, consumer, delivered: Number(delivered), streamSeq: Number(sseq), consumerSeq: Number(cseq), timestampMs, timestampNanos: ts, pending: Number(pending) };
}
