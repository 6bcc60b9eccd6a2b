// $JS.API.DIRECT.GET.<stream> and DIRECT.GET.<stream>.<subject> (ADR-31):
// the request parsed and checked as nats-server's processDirectGetRequest and
// processDirectGetLastBySubjectRequest do (412 for a Nats-Required-Api-Level
// above ours, 408 Empty/Malformed/Bad Request),
// then answered by direct-get.ts: one message, a batch or multi_last, each
// ending in a 204 EOB. A stream without allow_direct has no direct-get
// responder in nats-server, so the requester sees "no responders"; we answer
// with that same 503 status.

import { requiresHigherApiLevel } from './required-api-level.ts';
import type { ApiRoute } from './api-route.ts';
import { directGet, directStatus, type DirectGetRequest, type DirectReply } from './direct-get.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { checkRequiredApiLevel } from './required-api-level.ts';
import { parseTime } from './rfc3339.ts';

class DirectStatus extends Error {
  constructor(readonly status: number, readonly text: string) {
    super(`${status} ${text}`);
    this.name = 'DirectStatus';
  }
}

const malformed = (): DirectStatus => new DirectStatus(408, 'Malformed Request');

/** Go's json.Unmarshal into JSApiMsgGetRequest: a field of the wrong type fails the whole request. */
function field<T>(value: unknown, check: (v: unknown) => v is T, fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (!check(value)) throw malformed();
  return value;
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

function time(value: unknown): number | null {
  const text = field(value, isString, '');
  if (value === undefined || value === null) return null;
  const t = parseTime(text);
  if (Number.isNaN(t)) throw malformed();
  return t;
}

function parseRequest(body: Buffer): DirectGetRequest {
  let w: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    w = v as Record<string, unknown>;
  } catch {
    throw malformed();
  }
  return {
    seq: field(w.seq, isUint, 0),
    lastBySubject: field(w.last_by_subj, isString, ''),
    nextBySubject: field(w.next_by_subj, isString, ''),
    batch: field(w.batch, isInt, 0),
    maxBytes: field(w.max_bytes, isInt, 0),
    startTime: time(w.start_time),
    multiLast: field(w.multi_last, isStrings, []),
    upToSeq: field(w.up_to_seq, isUint, 0),
    upToTime: time(w.up_to_time),
    noHeaders: field(w.no_hdr, isBool, false),
  };
}

/** NS processDirectGetRequest: nothing asked for is an empty request; conflicting fields a bad one. */
function bodyRequest(body: Buffer): DirectGetRequest {
  if (body.length === 0) throw new DirectStatus(408, 'Empty Request');
  const r = parseRequest(body);
  if (r.seq === 0 && r.lastBySubject === '' && r.nextBySubject === '' && r.multiLast.length === 0 && r.startTime === null) throw new DirectStatus(408, 'Empty Request');
  const last = r.lastBySubject !== '';
  const multi = r.multiLast.length > 0;
  if (
    (r.seq > 0 && (last || r.startTime !== null)) ||
    (r.startTime !== null && last) ||
    (last && (r.nextBySubject !== '' || r.batch > 0 || multi)) ||
    (r.nextBySubject !== '' && multi) ||
    (r.upToSeq > 0 && r.upToTime !== null)
  ) {
    throw new DirectStatus(408, 'Bad Request');
  }
  return r;
}

/** NS processDirectGetLastBySubjectRequest: the subject is the key; a body may only carry no_hdr / max_bytes. */
function subjectRequest(key: string, body: Buffer): DirectGetRequest {
  const r = body.length > 0 ? parseRequest(body) : parseRequest(Buffer.from('{}'));
  if (r.lastBySubject !== '' || r.nextBySubject !== '' || r.multiLast.length > 0 || r.seq !== 0 || r.batch !== 0 || r.startTime !== null || r.upToSeq !== 0 || r.upToTime !== null) {
    throw new DirectStatus(408, 'Bad Request');
  }
  return { ...r, lastBySubject: key };
}

export const directRoutes: ApiRoute[] = [
  {
    op: 'DIRECT.GET',
    type: 'direct',
    handle(engine, req) {
      const [name, ...rest] = req.args;
      const stream = engine.findStream(name);
      let messages: DirectReply[];
      if (stream === undefined || !stream.config.allowDirect) {
        messages = [directStatus(503, '')];
      } else if (requiresHigherApiLevel(req.header)) {
        // ADR-44: nats-server answers direct get's Nats-Required-Api-Level with a status line.
        messages = [directStatus(412, 'Required Api Level')];
      } else {
        try {
          try {
            checkRequiredApiLevel(req.header);
          } catch (err) {
            // ADR-44: direct get says it with a status line, not an API error.
            throw err instanceof JetStreamApiError ? new DirectStatus(412, 'Required Api Level') : err;
          }
          const request = rest.length > 0 ? subjectRequest(rest.join('.'), req.body) : bodyRequest(req.body);
          messages = directGet(stream.name, stream.store, request);
        } catch (err) {
          if (!(err instanceof DirectStatus)) throw err;
          messages = [directStatus(err.status, err.text)];
        }
      }
      return { kind: 'raw', messages };
    },
  },
];
