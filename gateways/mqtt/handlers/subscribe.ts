// SUBSCRIBE -> SUBACK (MQTT 3.1.1 §3.8/3.9, MQTT 5 §3.8/3.9): filter checks,
// subscribe permission on every mapped subject, shared subscriptions as queue
// groups, subscription options and identifiers, then retained messages.

import type { ISubscribePacket } from 'mqtt-packet';
import type { Principal } from '../../../core/auth/authorizer.ts';
import { InvalidSubjectError } from '../../../core/broker/errors.ts';
import type { MqttClient } from '../mqtt-client.ts';
import { MqttProtocolError, ReasonCode, SUBACK_FAILURE_V3 } from '../reason-codes.ts';
import type { MqttMessage } from '../message.ts';
import { deliveryOf } from '../overlapping-subscriptions.ts';
import type { SessionSubscription } from '../session.ts';
import type { SubscriptionRecord } from '../store.ts';
import { filterToSubjects, isValidTopicFilter, parseSharedFilter, TopicMappingError } from '../topic-mapping.ts';

export async function handleSubscribe(client: MqttClient, packet: ISubscribePacket): Promise<void> {
  const session = client.session;
  if (session === null) throw new MqttProtocolError(ReasonCode.ProtocolError, 'SUBSCRIBE before CONNECT');
  const identifier = packet.properties?.subscriptionIdentifier;
  // [MQTT-3.8.2-?] MQTT 5 §3.8.2.1.2: a Subscription Identifier of 0 is a protocol error.
  if (identifier === 0) throw new MqttProtocolError(ReasonCode.ProtocolError, 'Subscription Identifier 0');
  if (!packet.messageId) throw new MqttProtocolError(ReasonCode.MalformedPacket, 'SUBSCRIBE with packet identifier 0'); // [MQTT-2.3.1-1]
  const since = await client.gateway.logPosition(session);
  const granted: number[] = [];
  const retainedFor: Array<{ sub: SessionSubscription; existed: boolean }> = [];
  for (const s of packet.subscriptions) {
    const record: SubscriptionRecord = {
      topicFilter: s.topic,
      qos: s.qos,
      noLocal: client.isV5 && s.nl === true,
      retainAsPublished: client.isV5 && s.rap === true,
      retainHandling: client.isV5 ? (s.rh ?? 0) : 0,
      identifier,
      since,
    };
    const code = checkFilter(client, record);
    if (code !== null) {
      granted.push(code);
      continue;
    }
    try {
      const sub = await client.gateway.subscribe(session, record);
      if (client.session !== session) {
        // The connection closed meanwhile and its session was let go (or taken over): a
        // subscription added now would live on, unseen, in a session nothing holds.
        for (const b of sub.brokerSubs) b.unsubscribe();
        return;
      }
      const previous = session.addSubscription(sub);
      granted.push(s.qos); // we support every QoS: granted = requested [MQTT-3.9.3-?]
      retainedFor.push({ sub, existed: previous !== undefined });
    } catch (error) {
      if (!(error instanceof InvalidSubjectError || error instanceof TopicMappingError)) throw error;
      granted.push(client.isV5 ? ReasonCode.TopicFilterInvalid : SUBACK_FAILURE_V3);
    }
  }
  // On a NATS cluster the subscriptions must reach the server before SUBACK, so
  // that a publish the client makes after SUBACK is matched (embedded: no-op).
  if (retainedFor.length > 0) await client.gateway.broker.flush();
  // Retained messages are looked up before SUBACK and sent right after it, in the same
  // turn: whatever the client publishes once it has the SUBACK comes after them, as on
  // mosquitto (a lookup after SUBACK let such a message overtake an older retained one).
  // Live messages during the lookup may go before SUBACK, which [MQTT-3.8.4] permits.
  // The lookups run together; the messages still go out filter by filter.
  const retained = await Promise.all(retainedFor.map(async ({ sub, existed }) => ({ sub, messages: await retainedMessages(client, sub, existed) })));
  if (client.state === 'closed') return;
  // [MQTT-3.8.4-1] SUBACK with the same packet id; one code per filter, in order [MQTT-3.9.3-1].
  client.send({ cmd: 'suback', messageId: packet.messageId, granted });
  client.gateway.persist(session);
  for (const { sub, messages } of retained) {
    for (const message of messages) session.deliver(message, deliveryOf(sub), true, false);
  }
}

/** A reason code when the filter cannot be subscribed to, else null. */
function checkFilter(client: MqttClient, record: SubscriptionRecord): number | null {
  const v5 = client.isV5;
  let filter = record.topicFilter;
  let group: string | null = null;
  try {
    const shared = parseSharedFilter(filter);
    if (shared !== null) {
      // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
      if (record.noLocal) throw new MqttProtocolError(ReasonCode.ProtocolError, 'No Local on a shared subscription');
      filter = shared.filter;
      group = shared.group;
    }
  } catch (error) {
    if (error instanceof TopicMappingError) return v5 ? ReasonCode.TopicFilterInvalid : SUBACK_FAILURE_V3;
    throw error;
  }
  if (!isValidTopicFilter(filter)) return v5 ? ReasonCode.TopicFilterInvalid : SUBACK_FAILURE_V3;
  const principal = client.principal;
  if (principal !== null && !mayReceive(principal, filter, group)) {
    client.gateway.stats.deniedSubscribes++;
    return v5 ? ReasonCode.NotAuthorized : SUBACK_FAILURE_V3;
  }
  return null;
}

/**
 * A config reload changed the rules of `client`'s user (as nats-server treats
 * MQTT clients, NS server/reload.go reloadAuthorization): subscriptions the new
 * rules no longer allow leave the session and its saved record (MQTT has no
 * packet to say so, so they are logged).
 */
export function dropUnauthorizedSubscriptions(client: MqttClient): void {
  const session = client.session;
  const principal = client.principal;
  if (session === null || principal === null) return;
  let removed = 0;
  for (const sub of [...session.subscriptions.values()]) {
    if (mayReceive(principal, sub.filter, sub.group)) continue;
    session.removeSubscription(sub.topicFilter);
    removed++;
    client.gateway.log('client', client.clientId, `subscription ${JSON.stringify(sub.topicFilter)} removed: not authorized after reload`);
  }
  if (removed > 0) client.gateway.persist(session);
}

/** May `principal` subscribe to every subject a (valid, unshared) topic filter maps to? */
export function mayReceive(principal: Principal, filter: string, group: string | null): boolean {
  return filterToSubjects(filter).every((subject) => principal.canSubscribe(subject, group));
}

/** The retained messages a SUBSCRIBE gets, per Retain Handling [MQTT-3.3.1-9..11]; none for shared subscriptions. */
async function retainedMessages(client: MqttClient, sub: SessionSubscription, existed: boolean): Promise<MqttMessage[]> {
  if (sub.group !== null) return []; // MQTT 5 §4.8.2: retained messages are not sent for shared subscriptions
  if (sub.retainHandling === 2 || (sub.retainHandling === 1 && existed)) return [];
  return client.gateway.retained.match(sub.filter);
}
