// The few JetStream API calls the MQTT stores need, made as `$JS.API.*`
// requests over the Broker port, so they work on the embedded engine and on a
// NATS cluster alike.

import type { Broker } from '../../core/broker/broker.ts';
import { MessageHeaders, parseHeaders } from '../../core/protocol/headers.ts';

export class JetStreamApiError extends Error {
  constructor(readonly api: string, readonly code: number, readonly errCode: number, description: string, options?: { cause?: unknown }) {
    super(`${api}: ${description} (${code}/${errCode})`, options);
    this.name = 'JetStreamApiError';
  }
}

/** nats-server err_code values we branch on. */
export const JsErrCode = {
  StreamNotFound: 10059,
  NoMessageFound: 10037,
} as const;

export interface StoredMessage {
  subject: string;
  seq: number;
  headers: MessageHeaders | null;
  data: Buffer;
}

const encoder = new TextEncoder();

export class JetStreamApi {
  constructor(private readonly broker: Broker, private readonly timeoutMs = 5000) {}

  async call<T>(api: string, body: unknown): Promise<T> {
    const reply = await this.broker.request(`$JS.API.${api}`, encoder.encode(body === undefined ? '' : JSON.stringify(body)), { timeoutMs: this.timeoutMs });
    const parsed = JSON.parse(Buffer.from(reply.data).toString('utf8')) as T & { error?: { code: number; err_code: number; description: string } };
    if (parsed.error) throw new JetStreamApiError(api, parsed.error.code, parsed.error.err_code, parsed.error.description);
    return parsed;
  }

  /** Create the stream unless it exists (its config is left as it is). */
  async ensureStream(config: Record<string, unknown> & { name: string }): Promise<void> {
    try {
      await this.call(`STREAM.INFO.${config.name}`, undefined);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.errCode !== JsErrCode.StreamNotFound) throw error;
      await this.call(`STREAM.CREATE.${config.name}`, config);
    }
  }

  /** Publish into a stream and wait for its PubAck. */
  async store(subject: string, data: Uint8Array, headers?: MessageHeaders): Promise<number> {
    const reply = await this.broker.request(subject, data, { timeoutMs: this.timeoutMs, headers });
    const ack = JSON.parse(Buffer.from(reply.data).toString('utf8')) as { seq?: number; error?: { code: number; err_code: number; description: string } };
    if (ack.error) throw new JetStreamApiError(`publish ${subject}`, ack.error.code, ack.error.err_code, ack.error.description);
    return ack.seq ?? 0;
  }

  async purgeSubject(stream: string, subject: string): Promise<void> {
    await this.call(`STREAM.PURGE.${stream}`, { filter: subject });
  }

  /** The next message at or after `seq` on a subject filter, or null. */
  async next(stream: string, seq: number, filter: string): Promise<StoredMessage | null> {
    return this.get(stream, { seq, next_by_subj: filter });
  }

  async last(stream: string, subject: string): Promise<StoredMessage | null> {
    return this.get(stream, { last_by_subj: subject });
  }

  async bySeq(stream: string, seq: number): Promise<StoredMessage | null> {
    return this.get(stream, { seq });
  }

  async lastSeq(stream: string): Promise<number> {
    const info = await this.call<{ state: { last_seq: number } }>(`STREAM.INFO.${stream}`, undefined);
    return info.state.last_seq;
  }

  /** Every message on `filter` from `fromSeq` up to `toSeq`, oldest first (at most `limit`). */
  async all(stream: string, filter: string, fromSeq = 1, limit = 1_000_000, toSeq = Number.MAX_SAFE_INTEGER): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let seq = fromSeq;
    for (let i = 0; i < limit; i++) {
      const m = await this.next(stream, seq, filter);
      if (m === null || m.seq > toSeq) break;
      out.push(m);
      seq = m.seq + 1;
    }
    return out;
  }

  private async get(stream: string, request: Record<string, unknown>): Promise<StoredMessage | null> {
    try {
      const r = await this.call<{ message: { subject: string; seq: number; hdrs?: string; data?: string } }>(`STREAM.MSG.GET.${stream}`, request);
      const m = r.message;
      return {
        subject: m.subject,
        seq: m.seq,
        headers: m.hdrs ? parseHeaders(Buffer.from(m.hdrs, 'base64')) : null,
        data: m.data ? Buffer.from(m.data, 'base64') : Buffer.alloc(0),
      };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.errCode === JsErrCode.NoMessageFound) return null;
      throw error;
    }
  }
}
