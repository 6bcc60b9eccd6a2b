// $JS.API.STREAM.{CREATE,UPDATE,INFO,DELETE,PURGE}.<stream>, STREAM.NAMES and
// STREAM.LIST, answering with nats-server's JSON shapes and error codes.

import { randomBytes } from 'node:crypto';
import { subjectsOverlap } from '../subject/subject.ts';
import { json, parseBody, type ApiRequest, type ApiRoute } from './api-route.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { streamConfigFromWire, type StreamConfig } from './stream-config.ts';
import type { StreamConfigWire } from '../protocol/jetstream-wire.ts';
import type { JetStreamEngine } from './jetstream-engine.ts';
import { formatTime } from './rfc3339.ts';
import type { Stream } from './stream.ts';
import { nowMs } from './store/stream-store.ts';

const T = 'io.nats.jetstream.api.v1.';
const NAMES_PAGE = 1024;
const LIST_PAGE = 256;
const SUBJECTS_LIMIT = 100_000;

const invalidJson = (): JetStreamApiError => new JetStreamApiError(JsError.InvalidJson);

const ADVISORY_KIND = { create: 'CREATED', modify: 'UPDATED', delete: 'DELETED' } as const;

/** `$JS.EVENT.ADVISORY.STREAM.{CREATED,UPDATED,DELETED}.<stream>`, as nats-server sends them. */
function streamAdvisory(engine: JetStreamEngine, action: keyof typeof ADVISORY_KIND, stream: string): void {
  const subject = `$JS.EVENT.ADVISORY.STREAM.${ADVISORY_KIND[action]}.${stream}`;
  if (!engine.router.hasInterest(subject)) return;
  const body = { type: 'io.nats.jetstream.advisory.v1.stream_action', id: randomBytes(11).toString('hex'), timestamp: formatTime(nowMs()), stream, action };
  engine.router.publish(subject, null, -1, Buffer.from(JSON.stringify(body)), engine);
}

function configFromRequest(req: ApiRequest): StreamConfig {
  const name = req.args.join('.');
  const wire = parseBody<StreamConfigWire>(req.body, invalidJson);
  if (wire.name === undefined || wire.name === '') wire.name = name;
  if (wire.name !== name) throw new JetStreamApiError(JsError.StreamMismatch);
  return streamConfigFromWire(wire);
}

function streamArg(req: ApiRequest): string {
  return req.args.join('.');
}

interface PagedRequest {
  offset?: number;
  subject?: string;
}

function selectStreams(streams: Stream[], filter: string | undefined): Stream[] {
  if (filter === undefined || filter === '') return streams;
  return streams.filter((s) => s.config.subjects.some((subj) => subjectsOverlap(filter, subj)));
}

/** One page of streams (optionally only those whose subjects overlap `subject`). */
function page(streams: Stream[], req: ApiRequest, size: number, item: (s: Stream) => unknown): Record<string, unknown> {
  const opts = parseBody<PagedRequest>(req.body, invalidJson);
  const all = selectStreams(streams, opts.subject);
  const offset = Math.max(0, opts.offset ?? 0);
  return { total: all.length, offset, limit: size, streams: all.slice(offset, offset + size).map(item) };
}

export const streamRoutes: ApiRoute[] = [
  {
    op: 'STREAM.CREATE',
    type: `${T}stream_create_response`,
    handle(engine, req) {
      const { stream, created } = engine.createStream(configFromRequest(req));
      if (created) streamAdvisory(engine, 'create', stream.name);
      return json({ ...engine.streamInfo(stream), did_create: true });
    },
  },
  {
    op: 'STREAM.UPDATE',
    type: `${T}stream_update_response`,
    handle(engine, req) {
      const config = configFromRequest(req);
      engine.stream(config.name);
      const info = engine.streamInfo(engine.updateStream(config));
      streamAdvisory(engine, 'modify', config.name);
      return json({ ...info });
    },
  },
  {
    op: 'STREAM.INFO',
    type: `${T}stream_info_response`,
    errorExtras: { total: 0, offset: 0, limit: 0 },
    handle(engine, req) {
      const opts = parseBody<{ deleted_details?: boolean; subjects_filter?: string; offset?: number }>(req.body, invalidJson);
      const stream = engine.stream(streamArg(req));
      const info = engine.streamInfo(stream, { subjectsFilter: opts.subjects_filter, deletedDetails: opts.deleted_details === true });
      const total = info.state.subjects ? Object.keys(info.state.subjects).length : 0;
      const paged = opts.subjects_filter ? { total, offset: opts.offset ?? 0, limit: SUBJECTS_LIMIT } : { total: 0, offset: 0, limit: 0 };
      return json({ ...paged, ...info });
    },
  },
  {
    op: 'STREAM.DELETE',
    type: `${T}stream_delete_response`,
    handle(engine, req) {
      if (req.body.length > 0) throw new JetStreamApiError(JsError.NotEmptyRequest);
      const name = streamArg(req);
      engine.stream(name);
      const done = engine.deleteStream(name).then(() => {
        streamAdvisory(engine, 'delete', name);
        return { kind: 'json' as const, body: { success: true } };
      });
      return { kind: 'async', done };
    },
  },
  {
    op: 'STREAM.PURGE',
    type: `${T}stream_purge_response`,
    errorExtras: { purged: 0 },
    handle(engine, req) {
      const stream = engine.stream(streamArg(req));
      const opts = parseBody<{ filter?: string; seq?: number; keep?: number }>(req.body, invalidJson);
      if (stream.config.sealed) throw new JetStreamApiError(JsError.StreamSealed);
      if (stream.config.denyPurge) throw JetStreamApiError.of(JsError.StreamPurgeFailed, 'stream purge not permitted');
      if ((opts.seq ?? 0) > 0 && (opts.keep ?? 0) > 0) throw new JetStreamApiError(JsError.BadRequest);
      const purged = stream.store.purge({ filter: opts.filter, seq: opts.seq, keep: opts.keep });
      engine.touched(stream);
      return json({ success: true, purged });
    },
  },
  {
    op: 'STREAM.NAMES',
    type: `${T}stream_names_response`,
    handle: (engine, req) => json(page(engine.streamList(), req, NAMES_PAGE, (s) => s.name)),
  },
  {
    op: 'STREAM.LIST',
    type: `${T}stream_list_response`,
    handle: (engine, req) => json(page(engine.streamList(), req, LIST_PAGE, (s) => engine.streamInfo(s))),
  },
];
