// The client side of the JetStream API: JSON requests over Broker.request to the
// `$JS.API.*` subjects, exactly as NATS clients send them, and publishes that
// wait for the stream's PubAck. Nothing here reaches into the engine, so every
// gateway and connector works the same embedded and against a NATS cluster.
// Wire JSON keeps its wire names (snake_case); callers pass it through.

import type { Broker, BrokerMessage } from '../broker/broker.ts';
import { NoRespondersError } from '../broker/errors.ts';
import type { MessageHeaders } from '../broker/headers.ts';
import { JetStreamApiCodes, JetStreamApiError, type ApiErrorWire } from '../protocol/jetstream-api-error.ts';
import { JS_API_PREFIX, type PubAck, type StreamConfigWire, type StreamInfoWire } from '../protocol/jetstream-wire.ts';
import { readPubAck } from './pub-ack.ts';
import { decodeStoredMessage, type MessageGetRequest, type StoredMessage, type StoredMessageWire } from './stored-message.ts';

/** Nobody answers on $JS.API or on a stream subject (JetStream not enabled, no stream leader, or the cluster is unreachable). */
export class JetStreamNotEnabledError extends Error {
  constructor(readonly op: string, options?: { cause?: unknown }) {
    super(`JetStream is not enabled: nothing answered ${op}`, options);
    this.name = 'JetStreamNotEnabledError';
  }
}

export interface JetStreamPublishOptions {
  /**
   * Sent as `Nats-Expected-Stream` (a subject another stream captures is then an
   * error, not a silent success there); also lets the plain PubAck be read without
   * JSON.parse. Precondition: `headers` is not null.
   */
  readonly expectedStream?: string;
}

/** Client-side consumer shapes: passed through as the API sends them (the engine's typed forms are its own). */
export type ConsumerConfigWire = Record<string, unknown> & { durable_name?: string; name?: string };
export type ConsumerInfoWire = Record<string, unknown> & { name: string; stream_name: string; config: ConsumerConfigWire };

interface ApiAnswer {
  error?: ApiErrorWire;
  [key: string]: unknown;
}

const encoder = new TextEncoder();
const NO_DATA = new Uint8Array(0);

/** The reply as text, without copying it (Buffer.from(buffer) copies). */
export function replyText(message: BrokerMessage): string {
  const data = message.data;
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('utf8');
}

function parseAnswer(op: string, message: BrokerMessage): ApiAnswer {
  let answer: ApiAnswer;
  try {
    answer = JSON.parse(replyText(message)) as ApiAnswer;
  } catch (error) {
    throw new JetStreamApiError({ code: 500, errCode: 0, description: `unparseable JetStream answer: ${(error as Error).message}` }, {}, { op, cause: error });
  }
  if (answer.error !== undefined) throw JetStreamApiError.fromWire(op, answer.error);
  return answer;
}

export class JetStreamClient {
  constructor(
    private readonly broker: Broker,
    readonly timeoutMs = 5_000,
    readonly prefix = JS_API_PREFIX,
  ) {}

  /** The subject an operation is sent to; permissions are checked against it, as for NATS clients. */
  apiSubject(op: string, ...args: string[]): string {
    return [this.prefix, op, ...args].join('.');
  }

  async api<T>(op: string, args: string[], body?: object): Promise<T & ApiAnswer> {
    // What the server announces decides at once; a wildcard subscriber could otherwise take the request.
    if (this.broker.jetstream === false) throw new JetStreamNotEnabledError(op);
    const subject = this.apiSubject(op, ...args);
    let message: BrokerMessage;
    try {
      message = await this.broker.request(subject, body === undefined ? NO_DATA : encoder.encode(JSON.stringify(body)), { timeoutMs: this.timeoutMs });
    } catch (error) {
      if (error instanceof NoRespondersError) throw new JetStreamNotEnabledError(op, { cause: error });
      throw error;
    }
    return parseAnswer(op, message) as T & ApiAnswer;
  }

  /**
   * Publish to a subject a stream captures and resolve with its PubAck. Throws
   * JetStreamApiError when the stream refused the message, JetStreamNotEnabledError
   * when nothing answered (no stream, or no stream leader at the moment), and the
   * Broker's RequestTimeoutError when the PubAck did not come (stored or not: unknown).
   */
  async publish(subject: string, data: Uint8Array, headers: MessageHeaders | null, options?: JetStreamPublishOptions): Promise<PubAck> {
    const expectedStream = options?.expectedStream;
    if (expectedStream !== undefined) headers?.set('Nats-Expected-Stream', expectedStream);
    let message: BrokerMessage;
    try {
      message = await this.broker.request(subject, data, headers === null ? { timeoutMs: this.timeoutMs } : { timeoutMs: this.timeoutMs, headers });
    } catch (error) {
      if (error instanceof NoRespondersError) throw new JetStreamNotEnabledError(`publish to ${subject}`, { cause: error });
      throw error;
    }
    // A 503 status is nats-server's no-responders answer, should a broker hand it back as a reply.
    if (message.headers !== null && message.headers.status === 503) throw new JetStreamNotEnabledError(`publish to ${subject}`);
    return readPubAck(subject, replyText(message), expectedStream);
  }

  /** Every stream's info, following the API's paging. */
  async streams(): Promise<StreamInfoWire[]> {
    return (await this.streamList()).streams;
  }

  /**
   * Every stream's info, and the names of the streams a NATS cluster listed as
   * `missing`: it could not gather their info in time (no leader at the moment).
   */
  async streamList(): Promise<{ streams: StreamInfoWire[]; missing: string[] }> {
    const all: StreamInfoWire[] = [];
    const missing: string[] = [];
    for (let page = 0; page < 10_000; page++) {
      const answer = await this.api<{ streams: StreamInfoWire[] | null; total: number; missing?: string[] }>('STREAM.LIST', [], { offset: all.length + missing.length });
      const streams = answer.streams ?? [];
      all.push(...streams);
      missing.push(...(answer.missing ?? []));
      if (streams.length === 0 || all.length + missing.length >= answer.total) break;
    }
    return { streams: all, missing };
  }

  streamInfo(name: string, options: { subjects_filter?: string; offset?: number } = {}): Promise<StreamInfoWire> {
    return this.api<StreamInfoWire>('STREAM.INFO', [name], options);
  }

  /** Every subject stored in a stream that matches `filter`, following STREAM.INFO's subject paging. */
  async storedSubjects(stream: string, filter: string): Promise<string[]> {
    const subjects: string[] = [];
    for (let page = 0; page < 10_000; page++) {
      const info = await this.streamInfo(stream, { subjects_filter: filter, offset: subjects.length });
      const found = Object.keys(info.state.subjects ?? {});
      subjects.push(...found);
      if (found.length === 0 || subjects.length >= (info.total ?? 0)) break;
    }
    return subjects;
  }

  createStream(config: StreamConfigWire): Promise<StreamInfoWire> {
    return this.api<StreamInfoWire>('STREAM.CREATE', [String(config.name)], config);
  }

  /** Create the stream unless it exists (an existing stream's config is left as it is). */
  async ensureStream(config: StreamConfigWire & { name: string }): Promise<void> {
    try {
      await this.streamInfo(config.name);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.errCode !== JetStreamApiCodes.StreamNotFound) throw error;
      await this.createStream(config);
    }
  }

  updateStream(config: StreamConfigWire): Promise<StreamInfoWire> {
    return this.api<StreamInfoWire>('STREAM.UPDATE', [String(config.name)], config);
  }

  async deleteStream(name: string): Promise<void> {
    await this.api('STREAM.DELETE', [name]);
  }

  async purgeStream(name: string, options: { filter?: string; seq?: number; keep?: number } = {}): Promise<number> {
    return (await this.api<{ purged: number }>('STREAM.PURGE', [name], options)).purged;
  }

  /** A stored message as the API sends it, or null when there is none. */
  async getMessage(stream: string, request: MessageGetRequest): Promise<StoredMessageWire | null> {
    try {
      return (await this.api<{ message: StoredMessageWire }>('STREAM.MSG.GET', [stream], request)).message;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.errCode === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    }
  }

  /** A stored message with its headers parsed and its body decoded, or null when there is none. */
  async message(stream: string, request: MessageGetRequest): Promise<StoredMessage | null> {
    const wire = await this.getMessage(stream, request);
    return wire === null ? null : decodeStoredMessage(wire);
  }

  /** Every message on `filter` from `fromSeq` up to `toSeq`, oldest first (at most `limit`), one lookup each. */
  async messages(stream: string, filter: string, fromSeq = 1, limit = 1_000_000, toSeq = Number.MAX_SAFE_INTEGER): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let seq = fromSeq;
    for (let i = 0; i < limit; i++) {
      const m = await this.message(stream, { seq, next_by_subj: filter });
      if (m === null || m.seq > toSeq) break;
      out.push(m);
      seq = m.seq + 1;
    }
    return out;
  }

  async deleteMessage(stream: string, seq: number): Promise<void> {
    await this.api('STREAM.MSG.DELETE', [stream], { seq });
  }

  /** Create a consumer (or accept the existing one with the same configuration): CONSUMER.CREATE.<stream>.<name>. */
  createConsumer(stream: string, config: ConsumerConfigWire): Promise<ConsumerInfoWire> {
    const name = String(config.durable_name ?? config.name);
    return this.api<ConsumerInfoWire>('CONSUMER.CREATE', [stream, name], { stream_name: stream, config });
  }

  consumerInfo(stream: string, consumer: string): Promise<ConsumerInfoWire> {
    return this.api<ConsumerInfoWire>('CONSUMER.INFO', [stream, consumer]);
  }

  async deleteConsumer(stream: string, consumer: string): Promise<void> {
    await this.api('CONSUMER.DELETE', [stream, consumer]);
  }

  /** Every consumer's info, following the API's paging. */
  async consumers(stream: string): Promise<ConsumerInfoWire[]> {
    const all: ConsumerInfoWire[] = [];
    for (let page = 0; page < 10_000; page++) {
      const answer = await this.api<{ consumers: ConsumerInfoWire[] | null; total: number }>('CONSUMER.LIST', [stream], { offset: all.length });
      const consumers = answer.consumers ?? [];
      all.push(...consumers);
      if (consumers.length === 0 || all.length >= answer.total) break;
    }
    return all;
  }
}
