// Object store:
//   GET    /v1/objects                          list buckets (streams OBJ_*)
//   POST   /v1/objects                          create a bucket                  201
//   GET    /v1/objects/{bucket}                 list objects (metadata)
//   DELETE /v1/objects/{bucket}                 delete the bucket                204
//   PUT    /v1/objects/{bucket}/{name}          upload, streamed from the body   201
//   GET    /v1/objects/{bucket}/{name}          download, streamed
//   GET    /v1/objects/{bucket}/{name}/info     metadata
//   DELETE /v1/objects/{bucket}/{name}          delete                           204
// The body is never buffered whole: this scope's content-type parser leaves the
// request stream unread and the upload pulls it chunk by chunk (max_payload
// limits each chunk, not the object). Permissions: publish on the `$JS.API`
// subjects used for stream OBJ_<bucket>, and on `$O.<bucket>.>` to write.

import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requirePublish } from '../auth.ts';
import { bucketStreams, ttlMsOf } from '../bucket-streams.ts';
import type { GatewayContext } from '../context.ts';
import { HttpProblem } from '../errors.ts';
import { DEFAULT_CHUNK_SIZE, metaSubject, ObjectStoreClient, objectStreamName, type ObjectInfo } from '../../../core/jetstream-client/obj/object-store-client.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { BUCKET_PARAM } from './kv.ts';

const TAGS = ['object store'];
const BUCKET_PARAMS = { type: 'object', required: ['bucket'], properties: { bucket: BUCKET_PARAM } } as const;
const OBJECT_PARAMS = {
  type: 'object',
  required: ['bucket', 'name'],
  properties: { bucket: BUCKET_PARAM, name: { type: 'string', minLength: 1, description: 'Object name (any UTF-8; send `/` as `%2F`)' } },
} as const;
const INFO_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    bucket: { type: 'string' },
    nuid: { type: 'string' },
    size: { type: 'integer' },
    chunks: { type: 'integer' },
    mtime: { type: 'string' },
    digest: { type: 'string', description: '`SHA-256=<base64url>`' },
    deleted: { type: 'boolean' },
    description: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    options: { type: 'object', properties: { max_chunk_size: { type: 'integer' } } },
  },
} as const;

const createSchema: RouteDocSchema = {
  operationId: 'createObjectBucket',
  summary: 'Create an object store bucket',
  tags: TAGS,
  body: {
    type: 'object',
    required: ['bucket'],
    additionalProperties: false,
    properties: { bucket: BUCKET_PARAM, ttl_ms: { type: 'integer', minimum: 0 }, max_bytes: { type: 'integer' }, storage: { type: 'string', enum: ['file', 'memory'] }, description: { type: 'string' } },
  },
  response: { 201: { description: 'Created', type: 'object', properties: { bucket: { type: 'string' } } } },
};
const BUCKET_SCHEMA = {
  type: 'object',
  required: ['bucket'],
  properties: {
    bucket: { type: 'string' },
    description: { type: 'string' },
    bytes: { type: 'integer', description: 'Stored bytes, metadata and chunks' },
    ttl_ms: { type: 'integer' },
    storage: { type: 'string' },
  },
} as const;
const listBucketsSchema: RouteDocSchema = {
  operationId: 'listObjectBuckets',
  summary: 'List object store buckets',
  tags: TAGS,
  response: { 200: { description: 'Buckets, by name', type: 'object', required: ['buckets'], properties: { buckets: { type: 'array', items: BUCKET_SCHEMA } } } },
};
const listSchema: RouteDocSchema = {
  operationId: 'listObjects',
  summary: 'List objects (deleted ones left out)',
  tags: TAGS,
  params: BUCKET_PARAMS,
  response: { 200: { description: 'Objects', type: 'object', properties: { objects: { type: 'array', items: INFO_SCHEMA } } } },
};
const deleteBucketSchema: RouteDocSchema = {
  operationId: 'deleteObjectBucket',
  summary: 'Delete an object store bucket',
  tags: TAGS,
  params: BUCKET_PARAMS,
  response: { 204: { description: 'Deleted' } },
};
const putSchema: RouteDocSchema = {
  operationId: 'putObject',
  summary: 'Upload an object (streamed; any size)',
  description: 'The body is stored in chunks as it arrives; the object appears (replacing any previous version) only once all of it is stored. Its Content-Type is kept and served back on download.',
  tags: TAGS,
  consumes: ['*/*'],
  params: OBJECT_PARAMS,
  response: { 201: { ...INFO_SCHEMA, description: 'Stored' } },
};
const getSchema: RouteDocSchema = {
  operationId: 'getObject',
  summary: 'Download an object (streamed)',
  description: 'Headers: `Content-Length`, `ETag` (the digest), `X-Object-Digest`, and the Content-Type given at upload.',
  tags: TAGS,
  params: OBJECT_PARAMS,
  response: { 200: { description: 'The object bytes', content: { 'application/octet-stream': { schema: { type: 'string' } } } } },
};
const infoSchema: RouteDocSchema = {
  operationId: 'objectInfo',
  summary: 'Object metadata',
  tags: TAGS,
  params: OBJECT_PARAMS,
  response: { 200: { ...INFO_SCHEMA, description: 'Metadata' } },
};
const deleteSchema: RouteDocSchema = {
  operationId: 'deleteObject',
  summary: 'Delete an object',
  tags: TAGS,
  params: OBJECT_PARAMS,
  response: { 204: { description: 'Deleted' } },
};

export async function objectRoutes(root: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const store = new ObjectStoreClient(ctx.jetstream);
  const chunkSize = Math.max(1024, Math.min(DEFAULT_CHUNK_SIZE, ctx.maxPayload - 1024));
  const params = (request: FastifyRequest): { bucket: string; name: string } => request.params as { bucket: string; name: string };
  const allowApi = (request: FastifyRequest, op: string): void => requirePublish(request.principal, ctx.jetstream.apiSubject(op, objectStreamName(params(request).bucket)));
  const allowWrite = (request: FastifyRequest): void => {
    const { bucket, name } = params(request);
    requirePublish(request.principal, metaSubject(bucket, name));
  };
  const current = async (request: FastifyRequest): Promise<ObjectInfo> => {
    const { bucket, name } = params(request);
    const info = await store.info(bucket, name);
    if (info === null) await store.bucketInfo(bucket); // bucket_not_found when that is why
    if (info === null || info.deleted === true) throw new HttpProblem('object_not_found', `no object ${JSON.stringify(name)} in bucket ${JSON.stringify(bucket)}`, { bucket, name });
    return info;
  };

  // Bucket admin takes JSON bodies (the default parsers)...
  await root.register(async (app) => {
    app.get('/v1/objects', { schema: listBucketsSchema }, async (request) => {
      requirePublish(request.principal, ctx.jetstream.apiSubject('STREAM.LIST'));
      const buckets = await bucketStreams(ctx.jetstream, objectStreamName(''));
      return {
        buckets: buckets.map(({ bucket, info }) => ({
          bucket,
          ...(typeof info.config.description === 'string' ? { description: info.config.description } : {}),
          bytes: info.state.bytes,
          ttl_ms: ttlMsOf(info),
          storage: info.config.storage,
        })),
      };
    });

    app.post('/v1/objects', { schema: createSchema }, async (request, reply) => {
      const body = request.body as { bucket: string; ttl_ms?: number; max_bytes?: number; storage?: 'file' | 'memory'; description?: string };
      requirePublish(request.principal, ctx.jetstream.apiSubject('STREAM.CREATE', objectStreamName(body.bucket)));
      await store.createBucket(body.bucket, body);
      ctx.streams.index.invalidate();
      return reply.code(201).send({ bucket: body.bucket });
    });

    app.get('/v1/objects/:bucket', { schema: listSchema }, async (request) => {
      allowApi(request, 'STREAM.MSG.GET');
      return { objects: await store.list(params(request).bucket) };
    });

    app.delete('/v1/objects/:bucket', { schema: deleteBucketSchema }, async (request, reply) => {
      allowApi(request, 'STREAM.DELETE');
      await store.deleteBucket(params(request).bucket);
      ctx.streams.index.invalidate();
      return reply.code(204).send();
    });

  });

  // ...object data never goes through a body parser: in this scope every body is
  // left unread and the upload handler streams request.raw itself.
  await root.register(async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    app.put('/v1/objects/:bucket/:name', { schema: putSchema }, async (request, reply) => {
      allowWrite(request);
      const { bucket, name } = params(request);
      await store.bucketInfo(bucket); // 404 before reading any of the body
      const contentType = request.headers['content-type'];
      const info = await store.put(bucket, name, request.raw, {
        chunkSize,
        ...(contentType === undefined ? {} : { headers: { 'Content-Type': [contentType] } }),
      });
      return reply.code(201).send(info);
    });

    app.get('/v1/objects/:bucket/:name', { schema: getSchema }, async (request, reply) => {
      allowApi(request, 'STREAM.MSG.GET');
      const info = await current(request);
      reply.header('content-length', String(info.size));
      reply.header('etag', `"${info.digest}"`);
      reply.header('x-object-digest', info.digest);
      reply.type(info.headers?.['Content-Type']?.[0] ?? 'application/octet-stream');
      // HEAD: the headers above, and no chunk read from the store. An empty stream (not
      // an empty body) so fastify keeps this Content-Length instead of writing 0.
      if (request.method === 'HEAD') return reply.send(Readable.from([]));
      // Readable.from pulls the next chunk only when the socket has taken the last one.
      return reply.send(Readable.from(store.read(params(request).bucket, info), { objectMode: false, highWaterMark: 1 }));
    });

    app.get('/v1/objects/:bucket/:name/info', { schema: infoSchema }, async (request) => {
      allowApi(request, 'STREAM.MSG.GET');
      return current(request);
    });

    app.delete('/v1/objects/:bucket/:name', { schema: deleteSchema }, async (request, reply) => {
      allowWrite(request);
      const { bucket, name } = params(request);
      await store.delete(bucket, name);
      return reply.code(204).send();
    });
  });
}
