// A small JetStream client that speaks only JSON over Broker.request to the
// `$JS.API.*` subjects, exactly as NATS clients do. Nothing here reaches into
// the engine, so the gateway works the same embedded and against a NATS cluster.
// Wire JSON keeps its wire names (snake_case); callers pass it through.

import type { Broker, BrokerMessage } from '../broker/broker.ts';
import { NoRespondersError } from '../broker/errors.ts';
import type { MessageHeaders } from '../broker/headers.ts';

export const JS_API_PREFIX = '$JS.API';

/** A JetStream API error answer: `{ error: { code, err_code, description } }`. */
export class JetStreamApiError extends Error {
  constructor(
    readonly op: string,
    readonly code: number,
    readonly errCode: number,
    readonly description: string,
  ) {
    super(`${op}: ${description} (err_code ${errCode})`);
    this.name = 'JetStreamApiError';
  }
}

/** Nobody answers on $JS.API (JetStream not enabled, or the cluster is unreachable). */
export class JetStreamNotEnabledError extends Error {
  constructor(readonly op: string, options?: { cause?: unknown }) {
    super(`JetStream is not enabled: nothing answered ${op}`, options);
    this.name = 'JetStreamNotEnabledError';
  }
}

export interface PubAck {
  stream: string;
  seq: number;
  duplicate?: boolean;
  domain?: string;
  /** A counter's total after the publish (ADR-49, allow_msg_counter streams). */
  val?: string;
}

/** A stored message as STREAM.MSG.GET returns it. */
export interface StoredMessageWire {
  subject: string;
  seq: number;
  /** Header block, base64. */
  hdrs?: string;
  /** Payload, base64. */
  data?: string;
  time: string;
}

export interface MessageGetRequest {
  seq?: number;
  last_by_subj?: string;
  next_by_subj?: string;
}

export type StreamConfigWire = Record<string, unknown> & { name?: string; subjects?: string[] };
export type StreamInfoWire = Record<string, unknown> & {
  config: StreamConfigWire;
  state: Record<string, unknown> & { messages: number; first_seq: number; last_seq: number; subjects?: Record<string, number> };
};

interface ApiAnswer {
  error?: { code: number; err_code: number; description: string };
  [key: string]: unknown;
}

const encoder = new TextEncoder();

function parseAnswer(op: string, message: BrokerMessage): ApiAnswer {
  let answer: ApiAnswer;
  try {
    answer = JSON.parse(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength).toString('utf8')) as ApiAnswer;
  } catch (error) {
    throw new JetStreamApiError(op, 500, 0, `unparseable JetStream answer: ${(error as Error).message}`);
  }
  if (answer.error !== undefined) throw new JetStreamApiError(op, answer.error.code, answer.error.err_code, answer.error.description);
  return answer;
}

export class JetStreamClient {
  constructor(
    private readonly broker: Broker,
    private readonly timeoutMs = 5_000,
    readonly prefix = JS_API_PREFIX,
  ) {}

  /** The subject an operation is sent to; permissions are checked against it, as for NATS clients. */
  apiSubject(op: string, ...args: string[]): string {
    return [this.prefix, op, ...args].join('.');
  }

  async api<T>(op: string, args: string[], body?: object): Promise<T & ApiAnswer> {
    const subject = this.apiSubject(op, ...args);
    let message: BrokerMessage;
    try {
      message = await this.broker.request(subject, body === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(body)), { timeoutMs: this.timeoutMs });
    } catch (error) {
      if (error instanceof NoRespondersError) throw new JetStreamNotEnabledError(op, { cause: error });
      throw error;
    }
    return parseAnswer(op, message) as T & ApiAnswer;
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
      if (found.length === 0 || subjects.length >= (typeof info.total === 'number' ? info.total : 0)) break;
    }
    return subjects;
  }

  createStream(config: StreamConfigWire): Promise<StreamInfoWire> {
    return this.api<StreamInfoWire>('STREAM.CREATE', [String(config.name)], config);
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

  /** A stored message, or null when there is none (err_code 10037). */
  async getMessage(stream: string, request: MessageGetRequest): Promise<StoredMessageWire | null> {
    try {
      return (await this.api<{ message: StoredMessageWire }>('STREAM.MSG.GET', [stream], request)).message;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.errCode === 10037) return null;
      throw error;
    }
  }

  async deleteMessage(stream: string, seq: number): Promise<void> {
    await this.api('STREAM.MSG.DELETE', [stream], { seq });
  }

  /** Publish expecting a PubAck (the subject must belong to a stream). */
  async publish(subject: string, data: Uint8Array, headers: MessageHeaders | null): Promise<PubAck> {
    let message: BrokerMessage;
    try {
      message = await this.broker.request(subject, data, { timeoutMs: this.timeoutMs, ...(headers === null ? {} : { headers }) });
    } catch (error) {
      if (error instanceof NoRespondersError) throw new JetStreamNotEnabledError(`publish to ${subject}`, { cause: error });
      throw error;
    }
    return parseAnswer(`publish to ${subject}`, message) as unknown as PubAck;
  }
}
