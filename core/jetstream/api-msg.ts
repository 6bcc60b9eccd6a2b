// $JS.API.STREAM.MSG.GET.<stream> and STREAM.MSG.DELETE.<stream>.

import { json, parseBody, type ApiRoute } from './api-route.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { formatTime } from './rfc3339.ts';
import type { StoredMessage, StreamStore } from './store/stream-store.ts';

const T = 'io.nats.jetstream.api.v1.';

interface MsgGetRequest {
  seq?: number;
  last_by_subj?: string;
  next_by_subj?: string;
}

const badRequest = (): JetStreamApiError => new JetStreamApiError(JsError.BadRequest);

/** The message a get request names, or null; throws BadRequest for an invalid combination. */
function lookupMessage(store: StreamStore, req: MsgGetRequest): StoredMessage | null {
  const seq = typeof req.seq === 'number' ? req.seq : 0;
  const last = typeof req.last_by_subj === 'string' ? req.last_by_subj : '';
  const next = typeof req.next_by_subj === 'string' ? req.next_by_subj : '';
  if ((seq > 0 && last !== '') || (last !== '' && next !== '') || (seq <= 0 && last === '' && next === '')) throw badRequest();
  if (last !== '') return store.last(last);
  if (next !== '') return store.next(Math.max(seq, 1), next);
  return store.get(seq);
}

export const msgRoutes: ApiRoute[] = [
  {
    op: 'STREAM.MSG.GET',
    type: `${T}stream_msg_get_response`,
    handle(engine, req) {
      const stream = engine.stream(req.args.join('.'));
      const m = lookupMessage(stream.store, parseBody<MsgGetRequest>(req.body, () => new JetStreamApiError(JsError.InvalidJson)));
      if (m === null) throw new JetStreamApiError(JsError.NoMessageFound);
      const message: Record<string, unknown> = { subject: m.subject, seq: m.seq };
      if (m.header !== null && m.header.length > 0) message.hdrs = m.header.toString('base64');
      if (m.data.length > 0) message.data = m.data.toString('base64');
      message.time = formatTime(m.time);
      return json({ message });
    },
  },
  {
    op: 'STREAM.MSG.DELETE',
    type: `${T}stream_msg_delete_response`,
    handle(engine, req) {
      const stream = engine.stream(req.args.join('.'));
      const body = parseBody<{ seq?: number; no_erase?: boolean }>(req.body, () => new JetStreamApiError(JsError.InvalidJson));
      if (stream.config.sealed) throw new JetStreamApiError(JsError.StreamSealed);
      if (stream.config.denyDelete) throw JetStreamApiError.of(JsError.StreamMsgDeleteFailed, 'message delete not permitted');
      if (typeof body.seq !== 'number' || body.seq <= 0) throw new JetStreamApiError(JsError.BadRequest);
      // no_erase is accepted; removal never overwrites bytes in place here.
      if (!stream.store.remove(body.seq)) {
        // nats-server: a gap inside [first, last] is "sequence not found"; outside it the store has no such message.
        const st = stream.store.state();
        if (body.seq >= st.firstSeq && body.seq <= st.lastSeq) throw new JetStreamApiError(JsError.SequenceNotFound, { seq: body.seq });
        throw JetStreamApiError.of(JsError.StreamMsgDeleteFailed, 'no message found');
      }
      engine.touched(stream);
      return json({ success: true });
    },
  },
];
