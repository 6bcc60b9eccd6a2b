// UNSUBSCRIBE -> UNSUBACK (MQTT 3.1.1 §3.10/3.11, MQTT 5 §3.10/3.11).

import type { IUnsubscribePacket } from 'mqtt-packet';
import type { MqttClient } from '../mqtt-client.ts';
import { MqttProtocolError, ReasonCode } from '../reason-codes.ts';

export function handleUnsubscribe(client: MqttClient, packet: IUnsubscribePacket): void {
  const session = client.session;
  if (session === null) throw new MqttProtocolError(ReasonCode.ProtocolError, 'UNSUBSCRIBE before CONNECT');
  const codes: number[] = [];
  for (const topicFilter of packet.unsubscriptions) {
    // [MQTT-3.10.4-1] compared character by character; [MQTT-3.10.4-2] delivery stops at once.
    const removed = session.removeSubscription(topicFilter);
    codes.push(removed === undefined ? ReasonCode.NoSubscriptionExisted : ReasonCode.Success);
  }
  // [MQTT-3.10.4-4] UNSUBACK even when nothing matched; v5 carries a code per filter [MQTT-3.11.3-1].
  if (client.isV5) client.send({ cmd: 'unsuback', messageId: packet.messageId, granted: codes });
  else client.send({ cmd: 'unsuback', messageId: packet.messageId, granted: [] });
  client.gateway.persist(session);
}
