// Overlapping subscriptions of one session (MQTT 5 §3.3.4, MQTT 3.1.1 §3.3.5):
// a message that matches several of them goes to the client once, at the
// highest QoS granted among them [MQTT-3.3.4-2] [MQTT-3.3.5-1], carrying the
// Subscription Identifier of each [MQTT-3.3.4-4]. Each subscription has its
// own broker subscriptions, so each gets its own copy: the copy that arrives
// through the first matching subscription (the oldest) is delivered for all,
// the others are dropped. That works the same embedded and on a NATS cluster,
// where the copies are separate messages. Shared subscriptions stay apart: a
// group's message goes to one member, not to every subscription of a session.

import type { QoS } from 'mqtt-packet';
import { isReservedSubject, startsWithWildcardToken, subjectMatches } from '../../core/subject/subject.ts';
import type { SessionSubscription } from './session.ts';

/** What one delivery of a message gets from the subscriptions it matches. */
export interface MatchedDelivery {
  /** [MQTT-3.8.4-8] per subscription; the highest of them [MQTT-3.3.4-2]. */
  readonly qos: QoS;
  /** Retain As Published on any of them keeps the RETAIN flag. */
  readonly retainAsPublished: boolean;
  readonly subscriptionIds: number[] | undefined;
}

/** Does one of the subscription's broker subscriptions receive `subject` (with the broker's reserved-subject rule)? */
function receives(sub: SessionSubscription, subject: string): boolean {
  for (const b of sub.brokerSubs) {
    if (startsWithWildcardToken(b.subject) && isReservedSubject(subject)) continue; // excludeReserved [MQTT-4.7.2-1]
    if (subjectMatches(b.subject, subject)) return true;
  }
  return false;
}

/**
 * For a message on `subject` that came through `via`: null when another
 * subscription's copy delivers it, else what the one delivery carries.
 * `skipNoLocal`: the message is the session's own, so No Local subscriptions
 * do not count [MQTT-3.8.3-3].
 */
export function deliveryFor(subscriptions: ReadonlyMap<string, SessionSubscription>, via: SessionSubscription, subject: string, skipNoLocal: boolean): MatchedDelivery | null {
  if (via.group !== null || subscriptions.size === 1) return deliveryOf(via);
  let first: SessionSubscription | null = null;
  let qos = 0;
  let retainAsPublished = false;
  let ids: number[] | undefined;
  for (const sub of subscriptions.values()) {
    if (sub.group !== null || (skipNoLocal && sub.noLocal) || (sub !== via && !receives(sub, subject))) continue;
    if (first === null) {
      if (sub !== via) return null; // the first one's copy carries it
      first = sub;
    }
    qos = Math.max(qos, sub.qos);
    retainAsPublished ||= sub.retainAsPublished;
    if (sub.identifier !== undefined) (ids ??= []).push(sub.identifier);
  }
  return { qos: qos as QoS, retainAsPublished, subscriptionIds: ids };
}

/** What a delivery for this one subscription carries. */
export function deliveryOf(sub: Pick<SessionSubscription, 'qos' | 'retainAsPublished' | 'identifier'>): MatchedDelivery {
  return { qos: sub.qos as QoS, retainAsPublished: sub.retainAsPublished, subscriptionIds: sub.identifier === undefined ? undefined : [sub.identifier] };
}
