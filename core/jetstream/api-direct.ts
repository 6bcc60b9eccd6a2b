// $JS.API.DIRECT.GET.<stream> and DIRECT.GET.<stream>.<subject> (ADR-31):
// the stored message itself with Nats-Stream/Subject/Sequence/Time-Stamp
// headers appended, or a status-only reply (404 not found, 408 bad request).
// A stream without allow_direct has no direct-get responder in nats-server, so
// the requester sees "no responders"; we answer with that same 503 status.

import { lookupMessage, type MsgGetRequest } from './api-msg.ts';
import type { ApiAnswer, ApiRoute } from './api-route.ts';
import { formatTime } from './rfc3339.ts';

class DirectStatus extends Error {
  constructor(readonly status: number, readonly text: string) {
    super(`${status} ${text}`);
    this.name = 'DirectStatus';
  }
}

function status(code: number, text: string): ApiAnswer {
  return { kind: 'raw', header: Buffer.from(`NATS/1.0 ${code}${text ? ` ${text}` : ''}\r\n\r\n`), data: Buffer.alloc(0) };
}

function parseDirect(body: Buffer): MsgGetRequest {
  if (body.length === 0) throw new DirectStatus(408, 'Empty Request');
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as MsgGetRequest;
  } catch {
    throw new DirectStatus(408, 'Malformed Request');
  }
}

export const directRoutes: ApiRoute[] = [
  {
    op: 'DIRECT.GET',
    type: 'direct',
    handle(engine, req) {
      const [name, ...rest] = req.args;
      const stream = engine.findStream(name);
      if (stream === undefined || !stream.config.allowDirect) return status(503, '');
      try {
        let request: MsgGetRequest;
        if (rest.length > 0) {
          if (req.body.length > 0) throw new DirectStatus(408, 'Bad Request');
          request = { last_by_subj: rest.join('.') };
        } else {
          request = parseDirect(req.body);
        }
        const m = lookupMessage(stream.store, request, () => new DirectStatus(408, 'Bad Request'));
        if (m === null) return status(404, 'Message Not Found');
        // Keep the stored header lines, then add ours before the closing CRLF.
        const base = m.header !== null && m.header.length >= 4 ? m.header.subarray(0, m.header.length - 2) : Buffer.from('NATS/1.0\r\n');
        const ours = `Nats-Stream: ${stream.name}\r\nNats-Subject: ${m.subject}\r\nNats-Sequence: ${m.seq}\r\nNats-Time-Stamp: ${formatTime(m.time)}\r\n\r\n`;
        return { kind: 'raw', header: Buffer.concat([base, Buffer.from(ours)]), data: m.data };
      } catch (err) {
        if (err instanceof DirectStatus) return status(err.status, err.text);
        throw err;
      }
    },
  },
];
