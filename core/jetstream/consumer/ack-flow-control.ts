// ack_policy flow_control (nats-server 2.14, consumer.go AckFlowControl): a push
// consumer acknowledged by the answers to its flow-control requests. The
// destination of a mirror or source answers `100 FlowControl Request` only
// once what it received is stored, naming the last origin sequence it holds
// (`Nats-Last-Stream`); that answer acks everything up to it, as an ack_policy
// all ack would. So a work-queue or interest origin lets go of nothing the
// destination has not stored (issue 23 item 3). There is no ack wait and no
// redelivery: a destination that lost something re-creates the consumer.
//
// This module holds the config rules (setConsumerConfigDefaults,
// checkConsumerCfg), the API's rewrite of a nats-server sourcing request into
// such a consumer (jetstream_api.go jsConsumerCreateRequest) and the reading
// of the answer (processFlowControl).

import { parseHeaders } from '../../protocol/headers.ts';
import { JetStreamApiError } from '../../protocol/jetstream-api-error.ts';
import { JsError } from '../errors.ts';
import type { StreamConfig } from '../stream-config.ts';
import type { ConsumerConfig, ConsumerConfigWire } from './consumer-config.ts';
import { ConsumerErr } from './consumer-errors.ts';
import { LAST_STREAM } from './status-messages.ts';

const FLOW_CONTROL = 'flow_control';
/** nats-server sourceHealthHB: the only heartbeat a flow_control consumer may have. */
export const SOURCE_HEARTBEAT_NS = 1_000_000_000;

/** NS setConsumerConfigDefaults (not pedantic): flow control and the 1s heartbeat come with the policy. */
export function applyAckFlowControlDefaults(c: ConsumerConfig): void {
  if (c.ackPolicy !== FLOW_CONTROL) return;
  c.flowControl = true;
  c.idleHeartbeat = SOURCE_HEARTBEAT_NS;
}

/** NS checkConsumerCfg, in its order: a push consumer with flow control, a window and nothing that redelivers. */
export function checkAckFlowControl(c: ConsumerConfig): void {
  if (c.ackPolicy !== FLOW_CONTROL) return;
  if (c.deliverSubject === '') throw new JetStreamApiError(ConsumerErr.ConsumerAckFCRequiresPush);
  if (!c.flowControl) throw new JetStreamApiError(ConsumerErr.ConsumerAckFCRequiresFC);
  // NS: tied to the sourcing heartbeat, which must stay below the stalled-source timeout.
  if (c.idleHeartbeat !== SOURCE_HEARTBEAT_NS) throw JetStreamApiError.of(JsError.StreamInvalidConfig, 'flow control ack policy heartbeat needs to be 1s');
  if (c.maxAckPending <= 0) throw new JetStreamApiError(ConsumerErr.ConsumerAckFCRequiresMaxAckPending);
  if (c.ackWait !== 0 || c.backoff.length > 0) throw new JetStreamApiError(ConsumerErr.ConsumerAckFCRequiresNoAckWait);
  if (c.maxDeliver > 0) throw new JetStreamApiError(ConsumerErr.ConsumerAckFCRequiresNoMaxDeliver);
}

/**
 * NS jsConsumerCreateRequest: a nats-server 2.14+ destination asks for its
 * source consumer with `direct`, `sourcing` and a stable name. On an interest
 * or work-queue origin it becomes a durable of that name with flow-control
 * acks (kept across the destination's restarts: a re-create keeps the start it
 * had and goes on from its ack floor); elsewhere the name gets a random suffix,
 * as the old consumer may still be there. Returns the consumer name to use.
 */
export function upgradeSourcingRequest(wire: ConsumerConfigWire, stream: StreamConfig, existing: (name: string) => ConsumerConfigWire | null, suffix: () => string): string {
  const name = typeof wire.name === 'string' ? wire.name : '';
  if (wire.direct !== true || wire.sourcing !== true || name === '') return name;
  if (stream.retention === 'limits') {
    wire.name = `${name}-${suffix()}`;
    return wire.name;
  }
  wire.direct = false;
  wire.durable_name = name;
  wire.ack_policy = FLOW_CONTROL;
  wire.ack_wait = 0;
  wire.max_deliver = 0;
  wire.inactive_threshold = 0;
  const old = existing(name);
  if (old !== null) {
    wire.deliver_policy = old.deliver_policy;
    wire.opt_start_seq = old.opt_start_seq;
    wire.opt_start_time = old.opt_start_time;
  }
  return name;
}

/** The origin sequence a flow-control answer acknowledges up to (NS processFlowControl); 0: none. */
export function flowControlAckedSeq(header: Buffer | null): number {
  if (header === null || header.length === 0) return 0;
  const seq = Number(parseHeaders(header).get(LAST_STREAM) ?? 0);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
}
