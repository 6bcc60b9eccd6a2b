// Priority groups in a pull consumer's config (ADR-42; nats-server 2.11-2.12):
// `priority_groups`, `priority_policy` and `priority_timeout` (PinnedTTL in
// nats-server's Go, the same wire name), with nats-server's defaults
// (setConsumerConfigDefaults) and checks (checkConsumerCfg), in its order.

import { JetStreamApiError } from '../../protocol/jetstream-api-error.ts';
import type { ConsumerConfig } from './consumer-config.ts';
import { ConsumerErr } from './consumer-errors.ts';

export const PriorityPolicy = {
  None: 'none',
  Overflow: 'overflow',
  PinnedClient: 'pinned_client',
  Prioritized: 'prioritized',
} as const;
export type PriorityPolicy = (typeof PriorityPolicy)[keyof typeof PriorityPolicy];

/** nats-server JsDefaultPinnedTTL: 2 minutes, in nanoseconds. */
const DEFAULT_PINNED_TTL = 120_000 * 1_000_000;

/** ADR-42: ADR-6's limited-term, at most 16 characters (nats-server validGroupName). */
const GROUP_NAME = /^[a-zA-Z0-9/_=-]{1,16}$/;

export function isValidGroupName(group: string): boolean {
  return GROUP_NAME.test(group);
}

/** NS setConsumerConfigDefaults: a negative timeout is none; pinned_client defaults to 2 minutes. */
export function applyPriorityDefaults(c: ConsumerConfig): void {
  if (c.priorityTimeout < 0) c.priorityTimeout = 0;
  if (c.priorityPolicy === PriorityPolicy.PinnedClient && c.priorityTimeout === 0) c.priorityTimeout = DEFAULT_PINNED_TTL;
}

/** NS checkConsumerCfg, the priority part. */
export function checkPriorityConfig(c: ConsumerConfig): void {
  if (c.priorityPolicy !== PriorityPolicy.None) {
    if (c.deliverSubject !== '') throw new JetStreamApiError(ConsumerErr.ConsumerPushWithPriorityGroup);
    if (c.priorityGroups.length === 0) throw new JetStreamApiError(ConsumerErr.ConsumerPriorityPolicyWithoutGroup);
    for (const g of c.priorityGroups) {
      if (g === '') throw new JetStreamApiError(ConsumerErr.ConsumerEmptyGroupName);
      if (!isValidGroupName(g)) throw new JetStreamApiError(ConsumerErr.ConsumerInvalidGroupName);
    }
    return;
  }
  if (c.priorityGroups.length > 0) throw new JetStreamApiError(ConsumerErr.ConsumerPriorityGroupWithPolicyNone);
  if (c.priorityTimeout > 0) throw new JetStreamApiError(ConsumerErr.ConsumerPinnedTTLWithoutPriorityPolicyNone);
}
