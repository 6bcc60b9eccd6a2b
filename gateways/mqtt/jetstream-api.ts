// The few JetStream API calls the MQTT stores need, made as `$JS.API.*`
// requests over the Broker port, so they work on the embedded engine and on a
// NATS cluster alike.

import type { Broker } from '../../core/broker/broker.ts';
import { JetStreamApiError, JetStreamClient, type MessageGetRequest } from '../../core/kv/jetstream-client.ts';
import { MessageHeaders, parseHeaders } from '../../core/broker/headers.ts';

/** nats-server err_code values we branch on. */
export const JsErrCode = {
  StreamNotFound: 10059,
} as const;

export interface StoredMessage {
  subject: string;
  seq: number;
  headers: MessageHeaders | null;
  data: Buffer;
}

/** The shared JetStream client (core/kv), with the few shapes the MQTT stores want. */
export class JetStreamApi {
  private readonly js: JetStreamClient;

  constructor(broker: Broker, timeoutMs = 5000) {
    this.js = new JetStreamClient(broker, timeoutMs);
  }

  /** Create the stream unless it exists (its config is left as it is). */
  async ensureStream(config: Record<string, unknown> & { name: string }): Promise<void> {
    try {
      await this.js.api('STREAM.INFO', [config.name]);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.errCode !== JsErrCode.StreamNotFound) throw error;
      await this.js.api('STREAM.CREATE', [config.name], config);
    }
  }

  /** Publish into a stream and wait for its PubAck. */
  async store(subject: string, data: Uint8Array, headers?: MessageHeaders): Promise<number> {
    return (await this.js.publish(subject, data, headers ?? null)).seq;
  }

  async purgeSubject(stream: string, subject: string): Promise<void> {
    await this.js.purgeStream(stream, { filter: subject });
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
    return (await this.js.streamInfo(stream)).state.last_seq;
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

  private async get(stream: string, request: MessageGetRequest): Promise<StoredMessage | null> {
    const m = await this.js.getMessage(stream, request);
    if (m === null) return null;
    return {
      subject: m.subject,
      seq: m.seq,
      headers: m.hdrs ? parseHeaders(Buffer.from(m.hdrs, 'base64')) : null,
      data: m.data ? Buffer.from(m.data, 'base64') : Buffer.alloc(0),
    };
  }
}
