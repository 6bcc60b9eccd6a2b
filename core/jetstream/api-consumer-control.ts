// $JS.API.CONSUMER.PAUSE.<stream>.<consumer> (nats-server 2.11),
// $JS.API.CONSUMER.UNPIN.<stream>.<consumer> (2.11, ADR-42) and
// $JS.API.CONSUMER.RESET.<stream>.<consumer> (2.14, ADR-60), with
// nats-server's request and answer shapes (jetstream_api.go
// jsConsumerPauseRequest and jsConsumerUnpinRequest, consumer.go
// processResetReq and resetStartingSeqLocked).

import { json, parseBody, type ApiRequest, type ApiRoute } from './api-route.ts';
import { DeliverPolicy, setPauseUntil } from './consumer/consumer-config.ts';
import { ConsumerErr } from './consumer/consumer-errors.ts';
import { isValidGroupName } from './consumer/priority-config.ts';
import type { Consumer } from './consumer/consumer.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import type { JetStreamEngine } from './jetstream-engine.ts';
import { formatInstant, ZERO_TIME } from './rfc3339.ts';

const T = 'io.nats.jetstream.api.v1.';
const NS_PER_MS = 1_000_000;

/** JSConsumerInvalidResetErr. */
const ConsumerInvalidReset = { code: 400, errCode: 10204, description: 'invalid reset: {err}' } as const;

/** JSInvalidJSONErr with its reason, as the unpin request answers it. */
const InvalidJsonBecause = { code: 400, errCode: JsError.InvalidJson.errCode, description: 'invalid JSON: {err}' } as const;

const invalidJson = (): JetStreamApiError => new JetStreamApiError(JsError.InvalidJson);

function target(engine: JetStreamEngine, req: ApiRequest): Consumer {
  const stream = engine.stream(req.args[0] ?? '');
  return engine.consumers.get(stream, req.args.slice(1).join('.'));
}

/** NS: a body that is not a JSON object is no request at all (resume); an object that does not parse is invalid JSON. */
function optionalBody<T extends object>(body: Buffer): T {
  const text = body.toString('utf8').trim();
  return text.startsWith('{') || text.startsWith('[') ? parseBody<T>(body, invalidJson) : ({} as T);
}

/** The first sequence reset may go back to: 0 = anywhere; throws when the deliver policy allows no explicit sequence. */
function lowestResetSeq(c: Consumer): number {
  const cfg = c.config;
  switch (cfg.deliverPolicy) {
    case DeliverPolicy.All:
      return 0;
    case DeliverPolicy.ByStartSequence:
      return cfg.optStartSeq;
    case DeliverPolicy.ByStartTime: {
      const store = c.stream.store;
      for (let m = store.next(1, null); m !== null; m = store.next(m.seq + 1, null)) if (m.time >= cfg.optStartTime) return m.seq;
      return store.state().lastSeq + 1;
    }
    default:
      throw JetStreamApiError.of(ConsumerInvalidReset, 'not allowed');
  }
}

export const consumerControlRoutes: ApiRoute[] = [
  {
    op: 'CONSUMER.PAUSE',
    type: `${T}consumer_pause_response`,
    handle(engine, req) {
      const body = optionalBody<{ pause_until?: unknown }>(req.body);
      if (body.pause_until !== undefined && typeof body.pause_until !== 'string') throw invalidJson();
      const c = target(engine, req);
      const next = { ...c.config };
      setPauseUntil(next, body.pause_until ?? '');
      engine.consumers.update(c, next);
      const remaining = next.pauseUntil === null ? 0 : next.pauseUntil - Date.now();
      return json({
        paused: remaining > 0,
        pause_until: next.pauseUntil === null ? ZERO_TIME : formatInstant(next.pauseUntil),
        ...(remaining > 0 ? { pause_remaining: Math.round(remaining * NS_PER_MS) } : {}),
      });
    },
  },
  {
    op: 'CONSUMER.UNPIN',
    type: `${T}consumer_unpin_response`,
    handle(engine, req) {
      // NS jsConsumerUnpinRequest, in its order: the body, the group name, then stream, consumer and group.
      if (req.body.length === 0) throw JetStreamApiError.of(InvalidJsonBecause, 'unexpected end of JSON input');
      const body = parseBody<{ group?: unknown }>(req.body, invalidJson);
      if (body.group !== undefined && typeof body.group !== 'string') throw invalidJson();
      const group = body.group ?? '';
      if (group === '') throw JetStreamApiError.of(InvalidJsonBecause, 'consumer group not specified');
      if (!isValidGroupName(group)) throw new JetStreamApiError(ConsumerErr.ConsumerInvalidGroupName);
      const c = target(engine, req);
      if (c.pull === null || !c.config.priorityGroups.includes(group)) throw new JetStreamApiError(ConsumerErr.ConsumerInvalidPriorityGroup);
      c.pull.priority.unpin(group, 'admin');
      return json({});
    },
  },
  {
    op: 'CONSUMER.RESET',
    type: `${T}consumer_reset_response`,
    handle(engine, req) {
      const body = req.body.length > 0 ? parseBody<{ seq?: unknown }>(req.body, invalidJson) : {};
      if (body.seq !== undefined && (typeof body.seq !== 'number' || !Number.isInteger(body.seq) || body.seq < 0)) throw invalidJson();
      const c = target(engine, req);
      // No sequence: back to the ack floor. One below what the deliver policy starts at is refused.
      let seq = body.seq ?? 0;
      if (seq === 0) seq = c.acks.floorStream + 1;
      else if (seq < lowestResetSeq(c)) {
        throw JetStreamApiError.of(ConsumerInvalidReset, c.config.deliverPolicy === DeliverPolicy.ByStartTime ? 'below start time' : 'below start seq');
      }
      c.resetTo(Math.max(1, seq));
      return json({ ...engine.consumers.info(c), reset_seq: Math.max(1, seq) });
    },
  },
];
