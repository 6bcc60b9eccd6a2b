// Key-value buckets:
//   GET    /v1/buckets                      every bucket's status (streams KV_*)
//   POST   /v1/buckets                      create a bucket                      201
//   GET    /v1/buckets/{bucket}             status
//   DELETE /v1/buckets/{bucket}             delete the bucket and its keys       204
//   GET    /v1/buckets/{bucket}/keys        live keys, filtered and paged
//   GET    /v1/buckets/{bucket}/watch       changes as SSE/NDJSON; event id = revision
// Bucket admin needs the `$JS.API.STREAM.*` permission for stream KV_<bucket>
// (listing: `$JS.API.STREAM.LIST`, as nats.js's Kvm.list() sends);
// keys and watch need read permission (`$JS.API.STREAM.MSG.GET.KV_<bucket>`).

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requirePublish } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { bucketStreams, ttlMsOf } from '../bucket-streams.ts';
import { eventStreamFor } from '../event-stream.ts';
import { sendKvSnapshot } from '../kv-snapshot.ts';
import type { StreamInfoWire } from '../../../core/jetstream-client/jetstream-wire.ts';
import { encodeKey, KvClient, streamName, type BucketOptions } from '../../../core/jetstream-client/kv/kv-client.ts';
import { listKeys } from '../../../core/jetstream-client/kv/kv-keys.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { serveTail, type TailOptions } from '../stream-tail.ts';
import { BUCKET_PARAM, entryJson, KEY_RULE } from './kv.ts';

const TAGS = ['key-value'];
/** The event between a watch's current values and its changes. */
export const SNAPSHOT_END = 'snapshot_end';
const BUCKET_PARAMS = { type: 'object', required: ['bucket'], properties: { bucket: BUCKET_PARAM } } as const;
const STATUS_SCHEMA = {
  type: 'object',
  properties: {
    bucket: { type: 'string' },
    values: { type: 'integer', description: 'Stored entries, markers and history included' },
    history: { type: 'integer' },
    ttl_ms: { type: 'integer' },
    bytes: { type: 'integer' },
    storage: { type: 'string' },
  },
} as const;

const listSchema: RouteDocSchema = {
  operationId: 'listBuckets',
  summary: 'List key-value buckets with their status',
  tags: TAGS,
  response: { 200: { description: 'Buckets, by name', type: 'object', required: ['buckets'], properties: { buckets: { type: 'array', items: STATUS_SCHEMA } } } },
};
const createSchema: RouteDocSchema = {
  operationId: 'createBucket',
  summary: 'Create a key-value bucket',
  tags: TAGS,
  body: {
    type: 'object',
    required: ['bucket'],
    additionalProperties: false,
    properties: {
      bucket: BUCKET_PARAM,
      history: { type: 'integer', minimum: 1, maximum: 64, description: 'Revisions kept per key (default 1)' },
      ttl_ms: { type: 'integer', minimum: 0, description: 'Entry lifetime in ms (0 = forever)' },
      max_bytes: { type: 'integer' },
      max_value_size: { type: 'integer' },
      storage: { type: 'string', enum: ['file', 'memory'] },
    },
  },
  response: { 201: { ...STATUS_SCHEMA, description: 'Created' } },
};
const statusSchema: RouteDocSchema = {
  operationId: 'bucketStatus',
  summary: 'Bucket status',
  tags: TAGS,
  params: BUCKET_PARAMS,
  response: { 200: { ...STATUS_SCHEMA, description: 'Status' } },
};
const deleteSchema: RouteDocSchema = {
  operationId: 'deleteBucket',
  summary: 'Delete a bucket',
  tags: TAGS,
  params: BUCKET_PARAMS,
  response: { 204: { description: 'Deleted' } },
};
const keysSchema: RouteDocSchema = {
  operationId: 'listKeys',
  summary: 'Live keys (deleted ones left out), in stored-key order',
  description: `${KEY_RULE}\n\n\`filter\` is a subject-style pattern over stored keys (\`user.*\`, \`config.>\`). Page with \`after=<last key of the previous page>\` while \`more\` is true.`,
  tags: TAGS,
  params: BUCKET_PARAMS,
  querystring: {
    type: 'object',
    properties: { filter: { type: 'string', minLength: 1 }, after: { type: 'string', minLength: 1 }, limit: { type: 'integer', minimum: 1, maximum: 10_000 } },
    additionalProperties: false,
  },
  response: {
    200: { description: 'A page of keys', type: 'object', properties: { keys: { type: 'array', items: { type: 'string' } }, more: { type: 'boolean' } } },
  },
};
const watchSchema: RouteDocSchema = {
  operationId: 'watchBucket',
  summary: 'Watch changes as SSE or NDJSON',
  description:
    'Each change is an event with `id: <revision>` and an entry (`operation` PUT, DEL or PURGE). Starts after the current revision (new changes only), at `start_revision`, from the beginning with `history=1`, or just after `Last-Event-ID` (which wins). With `initial=1` it first sends the current value of every matching key (deleted keys left out), oldest revision first, then one `event: snapshot_end` (`{revision}`: the highest revision the snapshot covers; NDJSON: `{"event":"snapshot_end","revision":n}`), then the changes after them, each key never twice for one revision.',
  tags: TAGS,
  params: BUCKET_PARAMS,
  querystring: {
    type: 'object',
    properties: {
      key: { type: 'string', minLength: 1, description: 'One key, or a subject-style pattern over stored keys (default: all)' },
      start_revision: { type: 'integer', minimum: 1 },
      history: { type: 'string', enum: ['1', 'true', '0', 'false'] },
      initial: { type: 'string', enum: ['1', 'true', '0', 'false'], description: 'Begin with the current value of each key' },
      heartbeat: { type: 'integer', minimum: 0, maximum: 300_000 },
    },
    additionalProperties: false,
  },
  headers: { type: 'object', properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]+$' } } },
  response: { 200: { description: 'Changes', content: { 'text/event-stream': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'object' } } } } },
};

function status(bucket: string, info: StreamInfoWire): Record<string, unknown> {
  const config = info.config as Record<string, unknown>;
  return {
    bucket,
    values: info.state.messages,
    history: config.max_msgs_per_subject,
    ttl_ms: ttlMsOf(info),
    bytes: info.state.bytes,
    storage: config.storage,
  };
}

export async function bucketRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const js = ctx.jetstream;
  const kv = new KvClient(js);
  const bucketOf = (request: FastifyRequest): string => (request.params as { bucket: string }).bucket;
  const allowApi = (request: FastifyRequest, op: string, bucket: string): void => requirePublish(request.principal, js.apiSubject(op, streamName(bucket)));

  app.get('/v1/buckets', { schema: listSchema }, async (request) => {
    requirePublish(request.principal, js.apiSubject('STREAM.LIST'));
    return { buckets: (await bucketStreams(js, streamName(''))).map(({ bucket, info }) => status(bucket, info)) };
  });

  app.post('/v1/buckets', { schema: createSchema }, async (request, reply) => {
    const body = request.body as BucketOptions & { bucket: string };
    allowApi(request, 'STREAM.CREATE', body.bucket);
    const info = await kv.createBucket(body.bucket, body);
    ctx.streams.index.invalidate();
    return reply.code(201).send(status(body.bucket, info));
  });

  app.get('/v1/buckets/:bucket', { schema: statusSchema }, async (request) => {
    allowApi(request, 'STREAM.INFO', bucketOf(request));
    return status(bucketOf(request), await kv.bucketInfo(bucketOf(request)));
  });

  app.delete('/v1/buckets/:bucket', { schema: deleteSchema }, async (request, reply) => {
    allowApi(request, 'STREAM.DELETE', bucketOf(request));
    await kv.deleteBucket(bucketOf(request));
    ctx.streams.index.invalidate();
    return reply.code(204).send();
  });

  app.get('/v1/buckets/:bucket/keys', { schema: keysSchema }, async (request) => {
    allowApi(request, 'STREAM.MSG.GET', bucketOf(request));
    const query = request.query as { filter?: string; after?: string; limit?: number };
    return listKeys(ctx.broker, js, bucketOf(request), { filter: query.filter, after: query.after, limit: query.limit ?? 1000 });
  });

  app.get('/v1/buckets/:bucket/watch', { schema: watchSchema }, async (request: FastifyRequest, reply: FastifyReply) => {
    const bucket = bucketOf(request);
    allowApi(request, 'STREAM.MSG.GET', bucket);
    const query = request.query as { key?: string; start_revision?: number; history?: string; initial?: string; heartbeat?: number };
    const info = await kv.bucketInfo(bucket);
    const lastEventId = request.headers['last-event-id'];
    let startSeq = info.state.last_seq + 1;
    let startAsked = true;
    if (typeof lastEventId === 'string' && lastEventId !== '') startSeq = Number(lastEventId) + 1;
    else if (query.start_revision !== undefined) startSeq = query.start_revision;
    else if (query.history === '1' || query.history === 'true') startSeq = 1;
    else startAsked = false;
    // A pattern with wildcards is used as it is; a plain key goes through the key rule.
    const storedKey = query.key === undefined ? '>' : /(^|\.)[*>](\.|$)/.test(query.key) ? query.key : encodeKey(query.key);
    const filter = `$KV.${bucket}.${storedKey}`;
    const stream = eventStreamFor(ctx, request, reply, query.heartbeat);
    const initial = (query.initial === '1' || query.initial === 'true') && lastEventId === undefined;
    const tail: TailOptions = { stream: streamName(bucket), startSeq, filter, wakeSubjects: [filter] };
    const snapshot = async (): Promise<void> => {
      const sentUpTo = await sendKvSnapshot(ctx, stream, reply.raw, bucket, storedKey, entryJson);
      // Every revision up to sentUpTo was sent or superseded by one that was: the tail goes on
      // just after it, even below the last revision read before. On a NATS cluster the snapshot's
      // consumer may run on a replica that has not applied the newest revisions yet; the tail
      // (read from the stream leader) then sends them as changes instead of losing them. That
      // holds for an empty snapshot too (sentUpTo 0): whatever matches is newer than the replica's view.
      tail.startSeq = startAsked ? Math.max(startSeq, sentUpTo + 1) : sentUpTo + 1;
      // The marker between current values and changes (nats.js's watch calls it the end of initial values).
      // No id: a reconnecting EventSource resumes after the last entry, not after the marker.
      stream.send({ revision: sentUpTo }, undefined, SNAPSHOT_END);
    };
    serveTail(ctx, stream, reply, tail, (m) => entryJson(kv.entryFrom(bucket, m)), initial ? snapshot : undefined);
  });
}
