// Stream administration over the JetStream API (JSON in, JSON out, wire names):
//   GET    /v1/streams                 list (infos)
//   POST   /v1/streams                 create from a stream config      201
//   GET    /v1/streams/{name}          info (?subjects_filter= for per-subject counts), with each
//                                       mirror/source link's state (connected, lag, last error,
//                                       last transfer, backlog age)
//   PUT    /v1/streams/{name}          update
//   DELETE /v1/streams/{name}          delete                            204
//   POST   /v1/streams/{name}/purge    purge (optional {filter, seq, keep})
// Each operation needs publish permission on the `$JS.API.*` subject it uses,
// exactly as a NATS client would.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requirePublish } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { HttpProblem } from '../errors.ts';
import type { StreamConfigWire } from '../../../core/jetstream-client/jetstream-wire.ts';
import type { RouteDocSchema } from '../openapi.ts';

export const STREAM_NAME_PARAM = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[^.*>\\s/\\\\]+$', maxLength: 255, description: 'Stream name (no `.`, `*`, `>`, whitespace or path separators)' } },
} as const;

const STREAM_CONFIG_SCHEMA = {
  type: 'object',
  description: 'A JetStream stream configuration, with nats-server wire names. Durations are nanoseconds.',
  additionalProperties: true,
  properties: {
    name: { type: 'string' },
    subjects: { type: 'array', items: { type: 'string' } },
    retention: { type: 'string', enum: ['limits', 'interest', 'workqueue'] },
    storage: { type: 'string', enum: ['file', 'memory'] },
    max_msgs: { type: 'integer' },
    max_bytes: { type: 'integer' },
    max_age: { type: 'integer' },
    max_msgs_per_subject: { type: 'integer' },
    max_msg_size: { type: 'integer' },
    discard: { type: 'string', enum: ['old', 'new'] },
    duplicate_window: { type: 'integer' },
    allow_rollup_hdrs: { type: 'boolean' },
    deny_delete: { type: 'boolean' },
    deny_purge: { type: 'boolean' },
    allow_direct: { type: 'boolean' },
  },
} as const;

/** A mirror's or source's link (nats-server StreamSourceInfo, with Switchboard's link state, issue 23 item 5). */
const SOURCE_INFO_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    name: { type: 'string', description: 'Origin stream' },
    external: { type: 'object', additionalProperties: true, description: 'API and deliver prefixes of an origin on another server' },
    lag: { type: 'integer', description: 'Origin messages not stored here yet' },
    active: { type: 'integer', description: 'Nanoseconds since the link was last heard from; -1: never or failing' },
    error: { type: 'object', additionalProperties: true, description: 'The last error (code, err_code, description)' },
    connected: { type: 'boolean', description: 'The link is working' },
    last_transfer: { type: 'string', description: 'When a message was last stored through the link (RFC 3339)' },
    backlog_age: { type: 'integer', description: 'Nanoseconds since the oldest message not copied yet was stored at the origin; 0 when caught up' },
  },
} as const;

const STREAM_INFO_SCHEMA = {
  type: 'object',
  description: 'Stream info as the JetStream API returns it: config, state, created, and the mirror or sources links.',
  additionalProperties: true,
  properties: {
    config: { type: 'object', additionalProperties: true },
    state: { type: 'object', additionalProperties: true },
    created: { type: 'string' },
    mirror: SOURCE_INFO_SCHEMA,
    sources: { type: 'array', items: SOURCE_INFO_SCHEMA },
  },
} as const;

const TAGS = ['streams'];

const listSchema: RouteDocSchema = {
  operationId: 'listStreams',
  summary: 'List streams with their info',
  tags: TAGS,
  response: { 200: { description: 'All streams', type: 'object', properties: { streams: { type: 'array', items: STREAM_INFO_SCHEMA } } } },
};
const createSchema: RouteDocSchema = {
  operationId: 'createStream',
  summary: 'Create a stream',
  tags: TAGS,
  body: { ...STREAM_CONFIG_SCHEMA, required: ['name'] },
  response: { 201: { ...STREAM_INFO_SCHEMA, description: 'Created' } },
};
const infoSchema: RouteDocSchema = {
  operationId: 'streamInfo',
  summary: 'Stream info',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  querystring: {
    type: 'object',
    properties: { subjects_filter: { type: 'string', description: 'Include per-subject message counts for subjects matching this filter' } },
    additionalProperties: false,
  },
  response: { 200: { ...STREAM_INFO_SCHEMA, description: 'Stream info' } },
};
const updateSchema: RouteDocSchema = {
  operationId: 'updateStream',
  summary: 'Update a stream configuration',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  body: STREAM_CONFIG_SCHEMA,
  response: { 200: { ...STREAM_INFO_SCHEMA, description: 'Updated' } },
};
const deleteSchema: RouteDocSchema = {
  operationId: 'deleteStream',
  summary: 'Delete a stream and its messages',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  response: { 204: { description: 'Deleted' } },
};
const purgeSchema: RouteDocSchema = {
  operationId: 'purgeStream',
  summary: 'Purge messages (all, by subject filter, up to a sequence, or keeping the newest)',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { filter: { type: 'string' }, seq: { type: 'integer', minimum: 1 }, keep: { type: 'integer', minimum: 1 } },
  },
  response: { 200: { description: 'How many messages were removed', type: 'object', properties: { purged: { type: 'integer' } } } },
};

export async function streamRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const js = ctx.jetstream;
  const allow = (request: FastifyRequest, op: string, name?: string): void => {
    requirePublish(request.principal, name === undefined ? js.apiSubject(op) : js.apiSubject(op, name));
  };
  const nameOf = (request: FastifyRequest): string => (request.params as { name: string }).name;

  app.get('/v1/streams', { schema: listSchema }, async (request) => {
    allow(request, 'STREAM.LIST');
    return { streams: await js.streams() };
  });

  app.post('/v1/streams', { schema: createSchema }, async (request, reply) => {
    const config = request.body as StreamConfigWire;
    const name = String(config.name);
    if (!/^[^.*>\s/\\]+$/.test(name)) throw new HttpProblem('invalid_request', `invalid stream name ${JSON.stringify(name)}`, { stream: name });
    allow(request, 'STREAM.CREATE', name);
    const info = await js.createStream(config);
    ctx.streams.index.invalidate();
    return reply.code(201).send(info);
  });

  app.get('/v1/streams/:name', { schema: infoSchema }, async (request) => {
    allow(request, 'STREAM.INFO', nameOf(request));
    const query = request.query as { subjects_filter?: string };
    return js.streamInfo(nameOf(request), query.subjects_filter === undefined ? {} : { subjects_filter: query.subjects_filter });
  });

  app.put('/v1/streams/:name', { schema: updateSchema }, async (request) => {
    const name = nameOf(request);
    const config = request.body as StreamConfigWire;
    if (config.name !== undefined && config.name !== name) {
      throw new HttpProblem('invalid_request', `body names stream ${JSON.stringify(config.name)} but the path names ${JSON.stringify(name)}`, { stream: name });
    }
    allow(request, 'STREAM.UPDATE', name);
    const info = await js.updateStream({ ...config, name });
    ctx.streams.index.invalidate();
    return info;
  });

  app.delete('/v1/streams/:name', { schema: deleteSchema }, async (request, reply) => {
    allow(request, 'STREAM.DELETE', nameOf(request));
    await js.deleteStream(nameOf(request));
    ctx.streams.index.invalidate();
    return reply.code(204).send();
  });

  app.post('/v1/streams/:name/purge', { schema: purgeSchema }, async (request) => {
    allow(request, 'STREAM.PURGE', nameOf(request));
    return { purged: await js.purgeStream(nameOf(request), (request.body ?? {}) as { filter?: string; seq?: number; keep?: number }) };
  });
}
