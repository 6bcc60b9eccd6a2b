// Key-value entries:
//   GET    /v1/kv/{bucket}/{key}            the value (raw body); ETag = revision;
//                                           ?revision=n for an older one; If-None-Match -> 304
//   PUT    /v1/kv/{bucket}/{key}            write; If-Match: "<rev>" compare-and-set,
//                                           If-None-Match: * create only (412 otherwise)
//   DELETE /v1/kv/{bucket}/{key}            delete marker (?purge=1 drops the history); If-Match too
//   GET    /v1/kv/{bucket}/{key}/history    every stored revision, oldest first
// Permissions are those a NATS client would need: publish on `$KV.<bucket>.<key>`
// to write, publish on `$JS.API.STREAM.MSG.GET.KV_<bucket>` to read.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requirePublish } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { encodePayload } from '../envelope.ts';
import { HttpProblem } from '../errors.ts';
import { JetStreamNotEnabledError } from '../../../core/jetstream-client/jetstream-client.ts';
import { encodeKey, keySubject, KvClient, streamName, type KvEntry } from '../../../core/jetstream-client/kv/kv-client.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { acceptRawBodies, bodyBytes } from '../raw-body.ts';

export const KEY_RULE =
  'Keys: a valid NATS KV key (`[-/_=.A-Za-z0-9]`, no empty `.`-separated part) that does not start with `=` is stored as it is; any other key (spaces, Unicode, ...) is stored as `=` + base64url(UTF-8 key) without padding, and listed decoded. A `/` inside a key must be sent as `%2F`.';

export const BUCKET_PARAM = { type: 'string', pattern: '^[-_A-Za-z0-9]+$', description: 'Bucket name' } as const;
const KEY_PARAMS = {
  type: 'object',
  required: ['bucket', 'key'],
  properties: { bucket: BUCKET_PARAM, key: { type: 'string', minLength: 1, description: 'Key (see the key rule)' } },
} as const;

const ENTRY_SCHEMA = {
  type: 'object',
  required: ['bucket', 'key', 'revision', 'operation', 'created'],
  properties: {
    bucket: { type: 'string' },
    key: { type: 'string' },
    revision: { type: 'integer' },
    operation: { type: 'string', enum: ['PUT', 'DEL', 'PURGE'] },
    created: { type: 'string', description: 'Store time, RFC 3339 UTC with nine fraction digits (the revision is the stream sequence)' },
    data: { type: 'string' },
    data_base64: { type: 'string' },
    size: { type: 'integer' },
  },
} as const;

const TAGS = ['key-value'];
const ENTRY_HEADERS = 'Response headers: `ETag: "<revision>"`, `X-Kv-Revision`, `X-Kv-Created` (RFC 3339), `X-Kv-Operation`.';

const getSchema: RouteDocSchema = {
  operationId: 'kvGet',
  summary: 'Read a value',
  description: `${KEY_RULE}\n\n${ENTRY_HEADERS} A deleted or purged key is 404.`,
  tags: TAGS,
  params: KEY_PARAMS,
  querystring: { type: 'object', properties: { revision: { type: 'integer', minimum: 1 } }, additionalProperties: false },
  headers: { type: 'object', properties: { 'if-none-match': { type: 'string', description: '`"<revision>"`: 304 when unchanged' } } },
  response: {
    200: { description: 'The value as stored', content: { 'application/octet-stream': { schema: { type: 'string' } } } },
    304: { description: 'Not modified' },
  },
};
const putSchema: RouteDocSchema = {
  operationId: 'kvPut',
  summary: 'Write a value (optionally compare-and-set or create-only)',
  description: `${KEY_RULE}\n\nThe body is the value as sent. \`If-Match: "<revision>"\` writes only if the key is at that revision; \`If-None-Match: *\` writes only if the key does not exist (or was deleted). Otherwise 412 \`precondition_failed\`.`,
  tags: TAGS,
  consumes: ['*/*'],
  params: KEY_PARAMS,
  headers: {
    type: 'object',
    properties: { 'if-match': { type: 'string', description: '`"<revision>"`' }, 'if-none-match': { type: 'string', description: '`*`' } },
  },
  response: {
    200: { description: 'Written; ETag is the new revision', type: 'object', required: ['revision'], properties: { revision: { type: 'integer' } } },
    201: { description: 'Created (If-None-Match: *)', type: 'object', required: ['revision'], properties: { revision: { type: 'integer' } } },
  },
};
const deleteSchema: RouteDocSchema = {
  operationId: 'kvDelete',
  summary: 'Delete a key (a marker; ?purge=1 also drops its history)',
  tags: TAGS,
  params: KEY_PARAMS,
  querystring: { type: 'object', properties: { purge: { type: 'string', enum: ['1', 'true', '0', 'false'] } }, additionalProperties: false },
  headers: { type: 'object', properties: { 'if-match': { type: 'string', description: '`"<revision>"`' } } },
  response: { 204: { description: 'Deleted' } },
};
const historySchema: RouteDocSchema = {
  operationId: 'kvHistory',
  summary: "A key's stored revisions, oldest first",
  tags: TAGS,
  params: KEY_PARAMS,
  response: { 200: { description: 'Entries', type: 'object', properties: { entries: { type: 'array', items: ENTRY_SCHEMA } } } },
};

export function entryJson(entry: KvEntry): Record<string, unknown> {
  return {
    bucket: entry.bucket,
    key: entry.key,
    revision: entry.revision,
    operation: entry.operation,
    created: entry.created,
    ...(entry.operation === 'PUT' ? encodePayload(entry.value, 'auto') : {}),
    size: entry.value.length,
  };
}

/** `"12"`, `W/"12"` or `12` -> 12; `*` -> '*'; anything else is a 400. */
function parseEtag(value: string, header: string): number | '*' {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(trimmed);
  if (match === null) throw new HttpProblem('invalid_header', `${header} must be "<revision>" or *, got ${JSON.stringify(value)}`, { header });
  return Number(match[1]);
}

function setEntryHeaders(reply: FastifyReply, entry: KvEntry): void {
  reply.header('etag', `"${entry.revision}"`);
  reply.header('x-kv-revision', String(entry.revision));
  reply.header('x-kv-created', entry.created);
  reply.header('x-kv-operation', entry.operation);
}

export async function kvRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  acceptRawBodies(app);
  const kv = new KvClient(ctx.jetstream);
  const keyOf = (request: FastifyRequest): { bucket: string; key: string } => request.params as { bucket: string; key: string };
  const allowRead = (request: FastifyRequest): void =>
    requirePublish(request.principal, ctx.jetstream.apiSubject('STREAM.MSG.GET', streamName(keyOf(request).bucket)));
  const allowWrite = (request: FastifyRequest): void => {
    const { bucket, key } = keyOf(request);
    requirePublish(request.principal, keySubject(bucket, encodeKey(key)));
  };
  /**
   * A write to a bucket that does not exist has nobody to answer it (no stream
   * captures `$KV.<bucket>.>`), which the client library reports as JetStream
   * missing; ask for the bucket so the answer is bucket_not_found when that is why.
   */
  const writing = async <T>(request: FastifyRequest, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (error) {
      if (error instanceof JetStreamNotEnabledError) await kv.bucketInfo(keyOf(request).bucket);
      throw error;
    }
  };
  /** The revision an If-Match asks for ('*' resolved to the current one). */
  const expectedRevision = async (request: FastifyRequest): Promise<number | undefined> => {
    const header = request.headers['if-match'];
    if (header === undefined) return undefined;
    const wanted = parseEtag(header, 'If-Match');
    if (wanted !== '*') return wanted;
    const { bucket, key } = keyOf(request);
    const current = await kv.last(bucket, key);
    if (current === null || current.operation !== 'PUT') throw new HttpProblem('precondition_failed', `key ${JSON.stringify(key)} does not exist`, { bucket, key });
    return current.revision;
  };

  app.get('/v1/kv/:bucket/:key', { schema: getSchema }, async (request, reply) => {
    allowRead(request);
    const { bucket, key } = keyOf(request);
    const { revision } = request.query as { revision?: number };
    const entry = revision === undefined ? await kv.last(bucket, key) : await kv.revision(bucket, key, revision);
    if (entry === null || entry.operation !== 'PUT') {
      if (entry === null) await kv.bucketInfo(bucket); // a missing bucket is bucket_not_found, not a missing key
      const what = entry === null ? 'no key' : `key ${JSON.stringify(key)} was ${entry.operation === 'DEL' ? 'deleted' : 'purged'} at revision ${entry.revision}:`;
      throw new HttpProblem('key_not_found', `${what} ${entry === null ? JSON.stringify(key) : 'no value'} in bucket ${JSON.stringify(bucket)}`, { bucket, key, ...(entry === null ? {} : { revision: entry.revision }) });
    }
    setEntryHeaders(reply, entry);
    const inm = request.headers['if-none-match'];
    if (inm !== undefined && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${entry.revision}"`)) return reply.code(304).send();
    return reply.type('application/octet-stream').send(entry.value);
  });

  app.put('/v1/kv/:bucket/:key', { schema: putSchema }, async (request, reply) => {
    allowWrite(request);
    const { bucket, key } = keyOf(request);
    const value = bodyBytes(request.body);
    const createOnly = request.headers['if-none-match'];
    let revision: number;
    if (createOnly !== undefined) {
      if (createOnly.trim() !== '*') throw new HttpProblem('invalid_header', 'If-None-Match on PUT must be *', { header: 'If-None-Match' });
      revision = await writing(request, () => kv.create(bucket, key, value));
      reply.code(201);
    } else {
      const expected = await expectedRevision(request);
      revision = await writing(request, () => kv.put(bucket, key, value, expected));
    }
    reply.header('etag', `"${revision}"`);
    return { revision };
  });

  app.delete('/v1/kv/:bucket/:key', { schema: deleteSchema }, async (request, reply) => {
    allowWrite(request);
    const { bucket, key } = keyOf(request);
    const { purge } = request.query as { purge?: string };
    const expected = await expectedRevision(request);
    await writing(request, () => kv.delete(bucket, key, purge === '1' || purge === 'true', expected));
    return reply.code(204).send();
  });

  app.get('/v1/kv/:bucket/:key/history', { schema: historySchema }, async (request) => {
    allowRead(request);
    const { bucket, key } = keyOf(request);
    return { entries: (await kv.history(bucket, key)).map(entryJson) };
  });
}
