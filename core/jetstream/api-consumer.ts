// $JS.API.CONSUMER.CREATE.<stream>[.<name>[.<filter>]], CONSUMER.DURABLE.CREATE.<stream>.<durable>,
// CONSUMER.INFO|DELETE.<stream>.<name>, CONSUMER.NAMES|LIST.<stream>, with
// nats-server's JSON shapes and the subject/body checks of its
// jsConsumerCreateRequest, in the same order. MSG.NEXT is not an API call
// here either: the consumer manager subscribes to it directly.

import { randomBytes } from 'node:crypto';
import { json, parseBody, type ApiRequest, type ApiRoute } from './api-route.ts';
import { upgradeSourcingRequest } from './consumer/ack-flow-control.ts';
import { consumerConfigFromWire, consumerConfigToWire, type ConsumerConfigWire } from './consumer/consumer-config.ts';
import { ConsumerErr } from './consumer/consumer-errors.ts';
import type { Consumer } from './consumer/consumer.ts';
import type { ConsumerAction } from './consumer/consumer-manager.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import type { JetStreamEngine } from './jetstream-engine.ts';

const T = 'io.nats.jetstream.api.v1.';
const NAMES_PAGE = 1024;
const LIST_PAGE = 256;

const invalidJson = (): JetStreamApiError => new JetStreamApiError(JsError.InvalidJson);

interface CreateRequestWire {
  stream_name?: string;
  config?: ConsumerConfigWire;
  action?: string;
  pedantic?: boolean;
}

/** Shared by CONSUMER.CREATE and CONSUMER.DURABLE.CREATE. */
function create(engine: JetStreamEngine, req: ApiRequest, durableApi: boolean): Record<string, unknown> {
  const body = parseBody<CreateRequestWire>(req.body, invalidJson);
  const streamName = req.args[0] ?? '';
  let consumerName = '';
  let filter = '';
  if (durableApi) {
    if (req.args.length !== 2) throw new JetStreamApiError(ConsumerErr.ConsumerDurableNameNotInSubject);
    consumerName = req.args[1];
  } else if (req.args.length >= 2) {
    consumerName = req.args[1];
    filter = req.args.slice(2).join('.');
  }
  if (body.stream_name !== streamName) throw new JetStreamApiError(JsError.StreamMismatch);
  if (body.config === undefined || body.config === null || typeof body.config !== 'object') throw new JetStreamApiError(ConsumerErr.ConsumerConfigRequired);
  const wire: ConsumerConfigWire = { ...body.config };
  if (consumerName !== '' && /[\\/]/.test(consumerName)) throw new JetStreamApiError(ConsumerErr.ConsumerNameContainsPathSeparators);
  const durable = typeof wire.durable_name === 'string' ? wire.durable_name : '';
  if (durableApi) {
    if (durable === '') throw new JetStreamApiError(ConsumerErr.ConsumerDurableNameNotSet);
    if (durable !== consumerName) throw new JetStreamApiError(ConsumerErr.ConsumerDurableNameNotMatchSubject);
    wire.name = consumerName;
  } else if (consumerName !== '') {
    if (durable !== '' && durable !== consumerName) throw new JetStreamApiError(ConsumerErr.ConsumerDurableNameNotMatchSubject);
    wire.name = consumerName;
  } else if (durable !== '') {
    throw new JetStreamApiError(ConsumerErr.ConsumerEphemeralWithDurableName);
  }
  if (filter !== '' && Array.isArray(wire.filter_subjects) && wire.filter_subjects.length > 0) throw new JetStreamApiError(ConsumerErr.ConsumerMultipleFiltersNotAllowed);
  if (filter !== '' && wire.filter_subject !== filter) throw new JetStreamApiError(ConsumerErr.ConsumerCreateFilterSubjectMismatch);
  const action = body.action ?? '';
  if (action !== 'create' && action !== 'update' && action !== '') throw invalidJson();
  const stream = engine.stream(streamName);
  // A nats-server 2.14+ source consumer (stable name): a durable with flow-control acks on an
  // interest or work-queue stream, a suffixed ephemeral elsewhere (ack-flow-control.ts).
  const lookup = (name: string): Consumer | null => engine.consumers.list(stream).find((c) => c.name === name) ?? null;
  const sourcing = upgradeSourcingRequest(wire, stream.config, (name) => {
    const old = lookup(name);
    return old === null ? null : consumerConfigToWire(old.config);
  }, () => randomBytes(6).toString('hex'));
  const existed = sourcing !== '' && lookup(sourcing) !== null;
  const config = consumerConfigFromWire(wire, stream.config);
  const consumer = engine.consumers.create(stream, config, action as ConsumerAction);
  // NS: taken over again, a sourcing durable goes on from its ack floor (resetStartingSeq).
  if (existed && consumer.config.sourcing) consumer.resetTo(consumer.acks.floorStream + 1);
  return { ...engine.consumers.info(consumer) };
}

function target(engine: JetStreamEngine, req: ApiRequest) {
  const stream = engine.stream(req.args[0] ?? '');
  return { stream, consumer: engine.consumers.get(stream, req.args.slice(1).join('.')) };
}

/** One page of a stream's consumers, sorted by name. */
function page(engine: JetStreamEngine, req: ApiRequest, size: number, item: (c: Consumer) => unknown): Record<string, unknown> {
  const opts = parseBody<{ offset?: number }>(req.body, invalidJson);
  const all = engine.consumers.list(engine.stream(req.args.join('.')));
  const offset = Math.max(0, opts.offset ?? 0);
  return { total: all.length, offset, limit: size, consumers: all.slice(offset, offset + size).map(item) };
}

export const consumerRoutes: ApiRoute[] = [
  {
    op: 'CONSUMER.CREATE',
    type: `${T}consumer_create_response`,
    handle: (engine, req) => json(create(engine, req, false)),
  },
  {
    op: 'CONSUMER.DURABLE.CREATE',
    type: `${T}consumer_create_response`,
    handle: (engine, req) => json(create(engine, req, true)),
  },
  {
    op: 'CONSUMER.INFO',
    type: `${T}consumer_info_response`,
    handle(engine, req) {
      const { consumer } = target(engine, req);
      return json({ ...engine.consumers.info(consumer) });
    },
  },
  {
    op: 'CONSUMER.DELETE',
    type: `${T}consumer_delete_response`,
    handle(engine, req) {
      const { stream, consumer } = target(engine, req);
      engine.consumers.delete(stream, consumer.name);
      return json({ success: true });
    },
  },
  {
    op: 'CONSUMER.NAMES',
    type: `${T}consumer_names_response`,
    handle: (engine, req) => json(page(engine, req, NAMES_PAGE, (c) => c.name)),
  },
  {
    op: 'CONSUMER.LIST',
    type: `${T}consumer_list_response`,
    handle: (engine, req) => json(page(engine, req, LIST_PAGE, (c) => engine.consumers.info(c))),
  },
];
