// Reading a stream's messages:
//   GET    /v1/streams/{name}/messages/{seq}      one message by sequence
//   DELETE /v1/streams/{name}/messages/{seq}      delete one message         204
//   GET    /v1/streams/{name}/last/{subject}      the last message on a subject
//   GET    /v1/streams/{name}/range               a page of messages from start_seq or start_time
//   GET    /v1/streams/{name}/messages            SSE/NDJSON from start_seq, start_time or
//                                                 Last-Event-ID; event id = stream sequence
// Reads need publish permission on `$JS.API.STREAM.MSG.GET.<name>` (what a NATS
// client sends for the same data), deletes on `$JS.API.STREAM.MSG.DELETE.<name>`.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseHeaders } from '../../../core/broker/headers.ts';
import { requirePublish } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { encodePayload, MESSAGE_ENVELOPE_SCHEMA, type PayloadEncoding } from '../envelope.ts';
import { HttpProblem } from '../errors.ts';
import { eventStreamFor } from '../event-stream.ts';
import { natsHeadersToJson } from '../headers.ts';
import type { StoredMessageWire } from '../../../core/jetstream-client/stored-message.ts';
import { rfc3339Nanos } from '../../../core/jetstream-client/timestamp.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { sequenceAtTime, serveTail } from '../stream-tail.ts';
import { STREAM_NAME_PARAM } from './streams.ts';

const STORED_ENVELOPE_SCHEMA = {
  ...MESSAGE_ENVELOPE_SCHEMA,
  required: ['stream', 'seq', 'subject', 'time', 'size'],
  properties: { ...MESSAGE_ENVELOPE_SCHEMA.properties, stream: { type: 'string' }, seq: { type: 'integer' }, time: { type: 'string', description: 'Store time, RFC 3339 UTC with nine fraction digits' } },
} as const;

export function storedEnvelope(stream: string, m: StoredMessageWire, encoding: PayloadEncoding): Record<string, unknown> {
  const data = m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data, 'base64');
  const headers = m.hdrs === undefined ? undefined : natsHeadersToJson(parseHeaders(Buffer.from(m.hdrs, 'base64')));
  return { stream, seq: m.seq, subject: m.subject, time: rfc3339Nanos(m.time), ...(headers === undefined ? {} : { headers }), ...encodePayload(data, encoding), size: data.length };
}

const ENCODING_QUERY = { type: 'string', enum: ['auto', 'base64'], description: '`auto`: UTF-8 payloads in `data`, others in `data_base64`; `base64`: always `data_base64`' } as const;
const TAGS = ['stream messages'];

const getSchema: RouteDocSchema = {
  operationId: 'getStreamMessage',
  summary: 'A stored message by sequence',
  tags: TAGS,
  params: { ...STREAM_NAME_PARAM, required: ['name', 'seq'], properties: { ...STREAM_NAME_PARAM.properties, seq: { type: 'integer', minimum: 1 } } },
  querystring: { type: 'object', properties: { encoding: ENCODING_QUERY }, additionalProperties: false },
  response: { 200: { ...STORED_ENVELOPE_SCHEMA, description: 'The message' } },
};
const deleteSchema: RouteDocSchema = {
  operationId: 'deleteStreamMessage',
  summary: 'Delete a stored message by sequence',
  tags: TAGS,
  params: getSchema.params,
  response: { 204: { description: 'Deleted' } },
};
const lastSchema: RouteDocSchema = {
  operationId: 'getLastStreamMessage',
  summary: 'The last stored message on a subject',
  tags: TAGS,
  params: { ...STREAM_NAME_PARAM, required: ['name', 'subject'], properties: { ...STREAM_NAME_PARAM.properties, subject: { type: 'string', minLength: 1 } } },
  querystring: { type: 'object', properties: { encoding: ENCODING_QUERY }, additionalProperties: false },
  response: { 200: { ...STORED_ENVELOPE_SCHEMA, description: 'The message' } },
};
const rangeSchema: RouteDocSchema = {
  operationId: 'getStreamRange',
  summary: 'A page of stored messages in sequence order',
  description: 'Follow `next_seq` to read on; an empty `messages` means the end of the stream for now.',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  querystring: {
    type: 'object',
    properties: {
      start_seq: { type: 'integer', minimum: 1, description: 'First sequence (default 1)' },
      start_time: { type: 'string', description: 'Instead of start_seq: from the first message stored at or after this RFC 3339 time' },
      count: { type: 'integer', minimum: 1, maximum: 1000, description: 'At most this many messages (default 100)' },
      subject: { type: 'string', minLength: 1, description: 'Only subjects matching this filter' },
      encoding: ENCODING_QUERY,
    },
    additionalProperties: false,
  },
  response: {
    200: {
      description: 'Messages and where to continue',
      type: 'object',
      properties: { messages: { type: 'array', items: STORED_ENVELOPE_SCHEMA }, next_seq: { type: 'integer' } },
    },
  },
};
const streamSchema: RouteDocSchema = {
  operationId: 'streamMessages',
  summary: 'Stream stored and new messages as SSE or NDJSON',
  description:
    'Starts at `start_seq` (default 1), or the first message at/after `start_time`, or just after the `Last-Event-ID` header (which wins, so a dropped EventSource resumes exactly). Each SSE event has `id: <stream sequence>`; NDJSON lines carry `seq`. Stored messages come first, then new ones as they are stored. The reader sets the pace: nothing is dropped.',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  querystring: {
    type: 'object',
    properties: {
      start_seq: { type: 'integer', minimum: 1 },
      start_time: { type: 'string', description: 'RFC 3339 time' },
      subject: { type: 'string', minLength: 1, description: 'Only subjects matching this filter' },
      heartbeat: { type: 'integer', minimum: 0, maximum: 300_000, description: 'Heartbeat interval in ms (0 = off)' },
      encoding: ENCODING_QUERY,
    },
    additionalProperties: false,
  },
  headers: { type: 'object', properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]+$', description: 'Resume after this stream sequence' } } },
  response: {
    200: {
      description: 'The message stream',
      content: { 'text/event-stream': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: STORED_ENVELOPE_SCHEMA } },
    },
  },
};

/** A start_time query as ms since the epoch; 400 when it is no time. */
function timeOf(startTime: string): number {
  const time = Date.parse(startTime);
  if (Number.isNaN(time)) throw new HttpProblem('invalid_request', `start_time ${JSON.stringify(startTime)} is not an RFC 3339 time`);
  return time;
}

export async function streamMessageRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const js = ctx.jetstream;
  const nameOf = (request: FastifyRequest): string => (request.params as { name: string }).name;
  const allowRead = (request: FastifyRequest): void => requirePublish(request.principal, js.apiSubject('STREAM.MSG.GET', nameOf(request)));
  const encodingOf = (request: FastifyRequest): PayloadEncoding => (request.query as { encoding?: PayloadEncoding }).encoding ?? 'auto';

  app.get('/v1/streams/:name/messages/:seq', { schema: getSchema }, async (request) => {
    allowRead(request);
    const { name, seq } = request.params as { name: string; seq: number };
    const m = await js.getMessage(name, { seq });
    if (m === null) throw new HttpProblem('message_not_found', `stream ${JSON.stringify(name)} has no message ${seq}`, { stream: name, seq });
    return storedEnvelope(name, m, encodingOf(request));
  });

  app.delete('/v1/streams/:name/messages/:seq', { schema: deleteSchema }, async (request, reply) => {
    const { name, seq } = request.params as { name: string; seq: number };
    requirePublish(request.principal, js.apiSubject('STREAM.MSG.DELETE', name));
    await js.deleteMessage(name, seq);
    return reply.code(204).send();
  });

  app.get('/v1/streams/:name/last/:subject', { schema: lastSchema }, async (request) => {
    allowRead(request);
    const { name, subject } = request.params as { name: string; subject: string };
    const m = await js.getMessage(name, { last_by_subj: subject });
    if (m === null) throw new HttpProblem('message_not_found', `stream ${JSON.stringify(name)} has no message on ${JSON.stringify(subject)}`, { stream: name, subject });
    return storedEnvelope(name, m, encodingOf(request));
  });

  app.get('/v1/streams/:name/range', { schema: rangeSchema }, async (request) => {
    allowRead(request);
    const name = nameOf(request);
    const query = request.query as { start_seq?: number; start_time?: string; count?: number; subject?: string };
    const messages: Record<string, unknown>[] = [];
    let next = query.start_time === undefined ? (query.start_seq ?? 1) : await sequenceAtTime(js, name, timeOf(query.start_time), query.subject);
    for (let i = 0; i < (query.count ?? 100); i++) {
      const m = await js.getMessage(name, { seq: next, next_by_subj: query.subject ?? '>' });
      if (m === null) break;
      messages.push(storedEnvelope(name, m, encodingOf(request)));
      next = m.seq + 1;
    }
    return { messages, next_seq: next };
  });

  app.get('/v1/streams/:name/messages', { schema: streamSchema }, async (request: FastifyRequest, reply: FastifyReply) => {
    allowRead(request);
    const name = nameOf(request);
    const query = request.query as { start_seq?: number; start_time?: string; subject?: string; heartbeat?: number };
    const info = await js.streamInfo(name); // 404 before the stream opens
    const lastEventId = request.headers['last-event-id'];
    let startSeq = query.start_seq ?? 1;
    if (typeof lastEventId === 'string' && lastEventId !== '') startSeq = Number(lastEventId) + 1;
    else if (query.start_time !== undefined) startSeq = await sequenceAtTime(js, name, timeOf(query.start_time), query.subject);
    const stream = eventStreamFor(ctx, request, reply, query.heartbeat, { 'x-nats-stream': name });
    const encoding = encodingOf(request);
    const wakeSubjects = query.subject !== undefined ? [query.subject] : (info.config.subjects ?? []);
    serveTail(ctx, stream, reply, { stream: name, startSeq, filter: query.subject, wakeSubjects }, (m) => storedEnvelope(name, m, encoding));
  });
}
