// The broker subscriptions behind one MQTT subscription of a session: one per
// subject its topic filter maps to, in the queue group of a shared
// subscription, all ended again if one fails.

import type { Broker, BrokerSubscription } from '../../core/broker/broker.ts';
import type { Session, SessionSubscription } from './session.ts';
import type { SubscriptionRecord } from './store.ts';
import { filterToSubjects, parseSharedFilter } from './topic-mapping.ts';

/** Throws on an invalid filter, or when the broker refuses a subscription. */
export async function subscribeSession(broker: Broker, session: Session, record: SubscriptionRecord): Promise<SessionSubscription> {
  const shared = parseSharedFilter(record.topicFilter);
  const filter = shared?.filter ?? record.topicFilter;
  // Every field named, not spread from the record: a spread object gets a hidden class
  // (and descriptor array) of its own, 350 bytes per subscription (issue 20, heap snapshots).
  const sub: SessionSubscription = {
    topicFilter: record.topicFilter, qos: record.qos, noLocal: record.noLocal, retainAsPublished: record.retainAsPublished,
    retainHandling: record.retainHandling, identifier: record.identifier, since: record.since,
    filter, group: shared?.group ?? null, brokerSubs: [],
  };
  const subscribed: BrokerSubscription[] = [];
  try {
    for (const subject of filterToSubjects(filter)) {
      // `#` and `+/...` must not see the JetStream API, the gateway's own state or request
      // replies: [MQTT-4.7.2-1], and nothing the gateway sends for a session may come back to it.
      const options = sub.group === null ? { excludeReserved: true } : { queue: sub.group, excludeReserved: true };
      subscribed.push(await broker.subscribe(subject, (m) => session.onBrokerMessage(sub, m), options));
    }
  } catch (error) {
    for (const b of subscribed) b.unsubscribe();
    throw error;
  }
  // Copied to an array of its exact length (a pushed-to array keeps 17 slots).
  sub.brokerSubs = subscribed.slice();
  return sub;
}
