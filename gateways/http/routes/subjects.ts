// Core messaging over HTTP: publish, request/reply and subscribe on subjects.
//   POST /v1/subjects/{subject}             publish (202), or request/reply with ?request=1
//   GET  /v1/subjects/{subject}             subscribe: SSE, or NDJSON on Accept: application/x-ndjson

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrokerMessage, BrokerSubscription } from '../../../core/broker/broker.ts';
import { isValidQueueName, isValidSubscriptionSubject } from '../../../core/subject/subject.ts';
import { requireSubscribe } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { messageEnvelope, MESSAGE_ENVELOPE_SCHEMA, type PayloadEncoding } from '../envelope.ts';
import { HttpProblem } from '../errors.ts';
import { eventStreamFor } from '../event-stream.ts';
import { applyIdempotencyKey, applyNatsHeadersToReply, natsHeadersFromHttp } from '../headers.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { capturedByStream, checkPublish, publishChecked, subjectFault, type OutgoingMessage } from '../publisher.ts';
import { acceptRawBodies, bodyBytes } from '../raw-body.ts';

const HEADER_RULES = `Request headers named \`Nats-*\` (e.g. \`Nats-Msg-Id\`) or \`Mqtt-*\` (e.g. \`Mqtt-Retain: true\`, retained for MQTT subscribers) are carried as NATS headers with their canonical spelling; \`X-Nats-Header-<Name>: v\` becomes NATS header \`<Name>: v\`. \`Idempotency-Key: k\` is sent as \`Nats-Msg-Id: k\`, so a retried publish to a stream subject is stored once (\`duplicate: true\` in the PubAck). Repeated headers keep every value. Nothing else is forwarded.`;

const SUBJECT_PARAM = {
  type: 'object',
  required: ['subject'],
  properties: { subject: { type: 'string', minLength: 1, description: 'A NATS subject, e.g. `orders.eu.created` (wildcards `*` and `>` only when subscribing)' } },
} as const;

const publishSchema: RouteDocSchema = {
  operationId: 'publish',
  summary: 'Publish a message, or send a request and wait for the first reply',
  description: `The body is the payload exactly as sent (any content type, up to max_payload bytes including NATS headers). ${HEADER_RULES}\n\nWith \`request=1\` the gateway waits for the first reply and answers with its body; the reply's \`Nats-*\` headers come back as they are and its other headers as \`X-Nats-Header-<Name>\`. 503 \`no_responders\` when nobody listens, 504 \`request_timeout\` when no reply arrives in time.`,
  tags: ['messaging'],
  consumes: ['*/*'],
  params: SUBJECT_PARAM,
  querystring: {
    type: 'object',
    properties: {
      request: { type: 'string', enum: ['1', 'true', '0', 'false'], description: 'Wait for a reply (request/reply)' },
      timeout: { type: 'integer', minimum: 1, maximum: 300_000, description: 'Request timeout in ms (default 5000)' },
      reply: { type: 'string', minLength: 1, description: 'Reply subject to publish with (plain publish only)' },
    },
    additionalProperties: false,
  },
  headers: {
    type: 'object',
    properties: { 'idempotency-key': { type: 'string', minLength: 1, description: 'Sent as `Nats-Msg-Id`: a stream stores a retried publish once' } },
  },
  response: {
    200: {
      description: 'With request=1: the first reply, its body as the responder sent it (its Content-Type header if it set one; `application/json` when JetStream answers, e.g. a PubAck; else `application/octet-stream`). For a subject captured by a stream: the PubAck JSON `{stream, seq, duplicate?}`.',
      content: {
        'application/octet-stream': { schema: { type: 'string' } },
        'application/json': {
          schema: { type: 'object', required: ['stream', 'seq'], properties: { stream: { type: 'string' }, seq: { type: 'integer' }, duplicate: { type: 'boolean' }, domain: { type: 'string' } } },
        },
      },
    },
    202: {
      description: 'Published to the core (no stream captures the subject; no delivery guarantee)',
      type: 'object',
      required: ['subject', 'size'],
      properties: { subject: { type: 'string' }, size: { type: 'integer' } },
    },
  },
};

const subscribeSchema: RouteDocSchema = {
  operationId: 'subscribe',
  summary: 'Subscribe: stream messages as Server-Sent Events or NDJSON',
  description:
    'Wildcards (`*`, `>`) allowed. Default format is SSE (`text/event-stream`, works with `curl -N`): each message is `event: msg` with a JSON envelope in `data:`; heartbeats are `: heartbeat` comments. With `Accept: application/x-ndjson` each message is one JSON line and heartbeats are empty lines; control lines carry an `event` member. ' +
    'The stream ends with `event: end` when `max` is reached, and with `event: error` (`code: slow_consumer`) when the reader falls behind by more than the pending-bytes limit. The subscription ends when the client goes away.',
  tags: ['messaging'],
  params: SUBJECT_PARAM,
  querystring: {
    type: 'object',
    properties: {
      queue: { type: 'string', minLength: 1, description: 'Queue group: each message goes to one member' },
      max: { type: 'integer', minimum: 1, description: 'End the stream after this many messages' },
      heartbeat: { type: 'integer', minimum: 0, maximum: 300_000, description: 'Heartbeat interval in ms (0 = off; default 15000)' },
      encoding: { type: 'string', enum: ['auto', 'base64'], description: '`auto`: UTF-8 payloads as text in `data`, others in `data_base64`; `base64`: always `data_base64`' },
    },
    additionalProperties: false,
  },
  headers: {
    type: 'object',
    properties: { accept: { type: 'string', description: '`text/event-stream` (default) or `application/x-ndjson`' } },
  },
  response: {
    200: {
      description: 'The message stream',
      content: {
        'text/event-stream': { schema: { type: 'string', description: '`event: msg` / `data: <envelope JSON>` frames' } },
        'application/x-ndjson': { schema: MESSAGE_ENVELOPE_SCHEMA },
      },
    },
  },
};

interface PublishQuery {
  request?: string;
  timeout?: number;
  reply?: string;
}

interface SubscribeQuery {
  queue?: string;
  max?: number;
  heartbeat?: number;
  encoding?: PayloadEncoding;
}

/**
 * Whether the reply to a request on this subject comes from JetStream, whose
 * answers (a PubAck, a `$JS.API` response) are JSON: a stream captures the
 * subject, or it is the JetStream API itself.
 */
async function answeredByJetStream(ctx: GatewayContext, message: OutgoingMessage): Promise<boolean> {
  return message.subject.startsWith('$JS.API.') || capturedByStream(ctx, message);
}

export async function subjectRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  acceptRawBodies(app);

  app.post('/v1/subjects/:subject', { schema: publishSchema }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { subject } = request.params as { subject: string };
    const query = request.query as PublishQuery;
    const message: OutgoingMessage = {
      subject,
      body: bodyBytes(request.body),
      headers: applyIdempotencyKey(natsHeadersFromHttp(request.raw.rawHeaders), request.headers['idempotency-key']),
      ...(query.reply === undefined ? {} : { reply: query.reply }),
    };
    checkPublish(ctx, request.principal, message);

    if (query.request === '1' || query.request === 'true') {
      if (query.reply !== undefined) throw new HttpProblem('invalid_request', 'reply cannot be combined with request=1: the gateway owns the reply subject');
      ctx.stats.requests++;
      const timeoutMs = Math.min(query.timeout ?? ctx.defaultRequestTimeoutMs, ctx.maxRequestTimeoutMs);
      const answer: BrokerMessage = await ctx.broker.request(subject, message.body, { timeoutMs, ...(message.headers === null ? {} : { headers: message.headers }) });
      applyNatsHeadersToReply(reply, answer.headers);
      reply.type(answer.headers?.get('Content-Type') ?? ((await answeredByJetStream(ctx, message)) ? 'application/json' : 'application/octet-stream'));
      return reply.code(200).send(Buffer.from(answer.data.buffer, answer.data.byteOffset, answer.data.byteLength));
    }
    const result = await publishChecked(ctx, message, await capturedByStream(ctx, message));
    return result.kind === 'stored' ? reply.code(200).send(result.ack) : reply.code(202).send({ subject: result.subject, size: result.size });
  });

  app.get('/v1/subjects/:subject', { schema: subscribeSchema }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { subject } = request.params as { subject: string };
    const query = request.query as SubscribeQuery;
    const queue = query.queue ?? null;
    if (!isValidSubscriptionSubject(subject)) throw new HttpProblem('invalid_subject', `cannot subscribe to ${JSON.stringify(subject)}: ${subjectFault(subject, 'subscribe')}`, { subject });
    if (queue !== null && !isValidQueueName(queue)) throw new HttpProblem('invalid_subject', `invalid queue group ${JSON.stringify(queue)}`, { queue });
    requireSubscribe(request.principal, subject, queue);

    const stream = eventStreamFor(ctx, request, reply, query.heartbeat);
    const encoding = query.encoding ?? 'auto';
    // Messages may arrive between subscribe and open: hold them until the headers are out.
    let early: BrokerMessage[] | null = [];
    let subscription: BrokerSubscription | null = null;
    const principal = request.principal;
    const deliver = (message: BrokerMessage): void => {
      if (early !== null) {
        early.push(message);
        return;
      }
      // A deny rule may cut into a wildcard subscription: re-check literal subjects.
      if (principal.canReceive !== undefined && !principal.canReceive(message.subject)) return;
      // allow_responses: a reader that gets a request may answer it with a POST.
      if (message.reply !== null) principal.noteReply?.(message.reply);
      if (!stream.send(messageEnvelope(message, encoding))) subscription?.unsubscribe();
    };
    subscription = await ctx.broker.subscribe(subject, deliver, { ...(queue === null ? {} : { queue }), ...(query.max === undefined ? {} : { max: query.max }) });
    await ctx.broker.flush(); // the subscription is live at the core before the client hears "subscribed"
    stream.open();
    const held = early;
    early = null;
    for (const message of held) deliver(message);
    const sub = subscription;
    // A config reload (nats-server's semantics, as for a NATS client's SUB): a
    // subscription the user's new rules no longer allow ends, and so does one
    // whose credentials no longer authenticate.
    const unwatch = principal.watch?.({
      changed: () => {
        if (!principal.canSubscribe(subject, queue)) stream.fail('permission_denied', `permissions violation for subscription to ${JSON.stringify(subject)}: removed by a configuration reload`);
      },
      revoked: () => stream.fail('unauthorized', 'credentials no longer valid after a configuration reload'),
    });
    stream.onClose(() => {
      unwatch?.();
      sub.unsubscribe();
    });
    void sub.closed.then(() => stream.end(query.max !== undefined ? 'max messages reached' : 'subscription closed'));
  });
}
