// One writer for every long-lived HTTP stream (subject subscriptions, stream
// messages, KV watch): Server-Sent Events by default, NDJSON when the client asks
// for `application/x-ndjson`.
//
// Backpressure (CONVENTIONS 9): the broker pushes, the HTTP reader pulls. Bytes the
// socket has not taken yet pile up in the response's buffer (`writableLength`); when
// that exceeds `maxPendingBytes` the reader is a slow consumer, as in nats-server: it
// gets a final `error` event, the stream ends, and the cut is counted. Nothing is
// silently dropped and memory stays bounded.
//
// Wire format:
//   SSE:    [id: <id>]\n event: <name>\n data: <json>\n\n   heartbeat = `: heartbeat` comment
//   NDJSON: message envelopes one per line; control lines carry an `event` member;
//           heartbeat = an empty line (never the first line: the headers alone
//           tell the client the stream is live).
// Every stream ends with `end` and a reason when it ends normally, including when
// the gateway shuts down or goes lame duck (EventStreamSet.endAll); HEAD gets the
// headers and no stream.

import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from './context.ts';
import { HTTP_ERRORS, HttpProblem, problemType, type HttpErrorCode } from './errors.ts';

export type StreamFormat = 'sse' | 'ndjson';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

export function negotiateStreamFormat(accept: string | undefined): StreamFormat {
  if (accept === undefined) return 'sse';
  const lower = accept.toLowerCase();
  return NDJSON_TYPES.some((type) => lower.includes(type)) && !lower.includes('text/event-stream') ? 'ndjson' : 'sse';
}

export interface StreamCounters {
  /** Streams open now. */
  activeStreams: number;
  /** Streams cut because their reader fell behind. */
  slowConsumers: number;
  /** Events written (messages only, not heartbeats). */
  eventsSent: number;
  /** Bytes written to event streams (framing and heartbeats included). */
  streamBytes: number;
}

export interface EventStreamOptions {
  format: StreamFormat;
  heartbeatMs: number;
  maxPendingBytes: number;
  /** Streams this gateway keeps open at most; one more is refused with 503. */
  maxStreams: number;
  counters: StreamCounters;
  /** The gateway's open streams: /connz lists them; shutdown and lame duck end them with `event: end`. */
  open: EventStreamSet;
  /** Extra response headers (e.g. the subscribed subject). */
  headers?: Record<string, string>;
  /** Its connection id in /connz. */
  cid?: number;
}

/** What /connz shows of a stream (http-monitor.ts). */
export interface EventStreamFigures {
  readonly startedAt: number;
  lastWriteAt: number;
  events: number;
  bytes: number;
}

/** How long a cut slow reader gets to take the final error event before the socket is destroyed. */
const SLOW_CLOSE_GRACE_MS = 1_000;

export class EventStream {
  private isClosed = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly closeHandlers: Array<() => void> = [];
  private resolveClosed!: () => void;
  readonly figures: EventStreamFigures = { startedAt: Date.now(), lastWriteAt: Date.now(), events: 0, bytes: 0 };
  /** Why it ended (for the log), once it has. */
  endReason: string | null = null;
  /** Settles when the stream has ended, for whatever reason. */
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(
    readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    readonly options: EventStreamOptions,
  ) {
    // Refused before anything is sent, so the client gets a proper problem response.
    if (options.counters.activeStreams >= options.maxStreams) {
      throw new HttpProblem('too_many_streams', `${options.counters.activeStreams} event streams are open, the limit is ${options.maxStreams}`, { limit: options.maxStreams });
    }
  }

  /** Take the response over from fastify and send the headers right away. */
  open(): void {
    const res = this.reply.raw;
    // Headers hooks set on the reply (CORS grants, rate-limit counts) go out too: after hijack fastify sends nothing.
    const hooked = this.reply.getHeaders() as OutgoingHttpHeaders;
    this.reply.hijack();
    const contentType = this.options.format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
    res.writeHead(200, {
      ...hooked,
      'content-type': contentType,
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // ask reverse proxies (nginx) not to buffer the stream
      ...this.options.headers,
    });
    this.options.counters.activeStreams++;
    this.options.open.add(this);
    res.on('close', () => this.finish('client closed the stream'));
    this.request.raw.on('aborted', () => this.finish('client closed the stream'));
    if (this.request.method === 'HEAD') {
      res.end();
      this.finish('HEAD: headers only');
      return;
    }
    // An immediate first chunk: clients (curl -N, EventSource) see the stream is live.
    if (this.options.format === 'sse') this.writeRaw(': subscribed\n\n');
    else res.flushHeaders();
    if (this.options.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.writeRaw(this.options.format === 'sse' ? ': heartbeat\n\n' : '\n'), this.options.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  onClose(handler: () => void): void {
    if (this.isClosed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Write one message event. False when the stream is closed (or was just cut). */
  send(data: object, id?: string, event = 'msg'): boolean {
    if (this.isClosed) return false;
    this.options.counters.eventsSent++;
    this.figures.events++;
    if (this.options.format === 'ndjson') return this.writeRaw(`${JSON.stringify(event === 'msg' ? data : { event, ...data })}\n`);
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    return this.writeRaw(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** End with a problem event (e.g. the subscription failed mid-way). */
  fail(code: HttpErrorCode, detail: string): void {
    if (this.isClosed) return;
    const problem = { type: problemType(code), title: HTTP_ERRORS[code].title, status: HTTP_ERRORS[code].status, code, detail };
    this.writeRaw(this.frame('error', problem));
    this.endReason ??= `failed: ${detail}`;
    this.end();
  }

  /** End normally, with an `end` event saying why. */
  end(reason?: string): void {
    if (this.isClosed) return;
    if (reason !== undefined) this.writeRaw(this.frame('end', { reason }));
    this.reply.raw.end();
    this.finish(reason ?? 'ended by the server');
  }

  /** end(reason), resolving once the response has finished writing (or closed). */
  endFlushed(reason: string): Promise<void> {
    const res = this.reply.raw;
    const done = res.writableFinished || res.destroyed ? Promise.resolve() : new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
    this.end(reason);
    return done;
  }

  private frame(event: string, data: object): string {
    return this.options.format === 'sse' ? `event: ${event}\ndata: ${JSON.stringify(data)}\n\n` : `${JSON.stringify({ event, ...data })}\n`;
  }

  private writeRaw(chunk: string): boolean {
    const res = this.reply.raw;
    if (this.isClosed || res.destroyed) return false;
    res.write(chunk);
    this.figures.lastWriteAt = Date.now();
    this.figures.bytes += chunk.length;
    this.options.counters.streamBytes += chunk.length;
    if (res.writableLength > this.options.maxPendingBytes) {
      this.cutSlowReader();
      return false;
    }
    return true;
  }

  private cutSlowReader(): void {
    const res = this.reply.raw;
    this.options.counters.slowConsumers++;
    const pending = res.writableLength;
    const problem = {
      type: problemType('slow_consumer'),
      title: HTTP_ERRORS.slow_consumer.title,
      status: HTTP_ERRORS.slow_consumer.status,
      code: 'slow_consumer',
      detail: `reader fell behind: ${pending} bytes pending, limit ${this.options.maxPendingBytes}`,
      pending_bytes: pending,
    };
    res.write(this.frame('error', problem));
    res.end();
    const destroy = setTimeout(() => res.destroy(), SLOW_CLOSE_GRACE_MS);
    destroy.unref();
    res.once('close', () => clearTimeout(destroy));
    this.finish('slow consumer');
  }

  private finish(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.endReason ??= reason;
    this.options.counters.activeStreams--;
    this.options.open.delete(this);
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    for (const handler of this.closeHandlers.splice(0)) handler();
    this.resolveClosed();
  }
}

/** The open streams of one gateway. */
export class EventStreamSet {
  private readonly streams = new Set<EventStream>();

  add(stream: EventStream): void {
    this.streams.add(stream);
  }

  delete(stream: EventStream): void {
    this.streams.delete(stream);
  }

  get size(): number {
    return this.streams.size;
  }

  [Symbol.iterator](): IterableIterator<EventStream> {
    return this.streams.values();
  }

  /**
   * End every open stream with `event: end` and `reason` (shutdown, lame duck).
   * Resolves when their last bytes are handed to the sockets, or after `graceMs`.
   */
  async endAll(reason: string, graceMs = 1_000): Promise<number> {
    const ending = [...this.streams];
    const flushed = ending.map((stream) => stream.endFlushed(reason));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(flushed), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    return ending.length;
  }
}

/** An event stream with the gateway's limits, in the format the client accepts. */
export function eventStreamFor(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, heartbeatMs?: number, headers?: Record<string, string>): EventStream {
  const stream = new EventStream(request, reply, {
    format: negotiateStreamFormat(request.headers.accept),
    heartbeatMs: heartbeatMs ?? ctx.heartbeatMs,
    maxPendingBytes: ctx.maxPendingBytes,
    maxStreams: ctx.maxStreams,
    counters: ctx.stats,
    open: ctx.openStreams,
    cid: ctx.connectionIds(),
    ...(headers === undefined ? {} : { headers }),
  });
  const route = request.routeOptions.url ?? request.url;
  const who = (): Record<string, unknown> => ({
    cid: stream.options.cid,
    type: 'http-stream',
    route,
    ...(request.principal === undefined || request.principal === null || request.principal.name === 'anonymous' ? {} : { user: request.principal.name }),
    ip: request.socket.remoteAddress,
    port: request.socket.remotePort,
  });
  ctx.log?.debug(who(), 'HTTP event stream opened');
  stream.onClose(() => {
    // A hijacked reply skips fastify's onResponse hook: the stream is counted, with its lifetime, when it ends.
    ctx.requestMetrics.record(route, request.method, 200, (Date.now() - stream.figures.startedAt) / 1000);
    ctx.log?.debug({ ...who(), reason: stream.endReason, events: stream.figures.events }, 'HTTP event stream closed');
  });
  return stream;
}
