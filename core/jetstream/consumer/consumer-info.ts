// The ConsumerInfo JSON nats-server answers CONSUMER.CREATE/INFO/LIST with.

import { formatTime } from '../rfc3339.ts';
import { consumerConfigToWire, type ConsumerConfigWire } from './consumer-config.ts';
import type { Consumer } from './consumer.ts';
import type { SequencePair } from './consumer-state-store.ts';
import type { PriorityGroupStateWire } from './priority-groups.ts';

export interface ConsumerInfoWire {
  stream_name: string;
  name: string;
  created: string;
  config: ConsumerConfigWire;
  delivered: SequencePair;
  ack_floor: SequencePair;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  num_pending: number;
  push_bound?: boolean;
  /** While pause_until is ahead (nats-server 2.11). */
  paused?: boolean;
  /** Nanoseconds left of the pause. */
  pause_remaining?: number;
  ts: string;
  /** Pull consumers with priority groups (ADR-42). */
  priority_groups?: PriorityGroupStateWire[];
}

export function consumerInfo(c: Consumer, pushBound: boolean): ConsumerInfoWire {
  const info: ConsumerInfoWire = {
    stream_name: c.stream.name,
    name: c.name,
    created: c.created,
    config: consumerConfigToWire(c.config),
    delivered: { consumer_seq: c.dseq, stream_seq: c.sseq - 1 },
    ack_floor: { consumer_seq: c.acks.floorConsumer, stream_seq: c.acks.floorStream },
    num_ack_pending: c.acks.size,
    num_redelivered: c.acks.redelivered,
    num_waiting: c.pull?.length ?? 0,
    num_pending: c.numPending(),
    ts: formatTime(Date.now()),
  };
  if (pushBound) info.push_bound = true;
  const now = Date.now();
  const until = c.config.pauseUntil;
  if (until !== null && until > now) {
    info.paused = true;
    info.pause_remaining = Math.round((until - now) * 1_000_000);
  }
  const groups = c.pull?.priority.info();
  if (groups !== undefined) info.priority_groups = groups;
  return info;
}
