// Inbound PUBLISH (MQTT 3.1.1 §3.3, MQTT 5 §3.3): topic alias, topic checks,
// publish permission on the mapped subject, then into the broker, with the QoS
// 1 (PUBACK) and QoS 2 (PUBREC, exactly once by packet id) acknowledgements,
// sent once the message is stored when a stream captures it (core/jetstream-client/stream-publisher.ts).

import type { IPublishPacket, QoS } from 'mqtt-packet';
import type { MqttMessage } from '../message.ts';
import type { MqttClient } from '../mqtt-client.ts';
import { MqttProtocolError, ReasonCode } from '../reason-codes.ts';
import type { Session } from '../session.ts';
import { StreamPublishError } from '../stream-publish-error.ts';
import { isValidTopicName, topicToSubject } from '../topic-mapping.ts';

export function handlePublish(client: MqttClient, packet: IPublishPacket): void {
  const session = client.session;
  if (session === null) throw new MqttProtocolError(ReasonCode.ProtocolError, 'PUBLISH before CONNECT');
  const gateway = client.gateway;
  const topic = resolveTopic(client, packet);
  // [MQTT-3.3.2-2] no wildcards in a topic name; [MQTT-4.7.3-1] at least one character.
  if (!isValidTopicName(topic)) throw new MqttProtocolError(ReasonCode.TopicNameInvalid, `invalid topic name ${JSON.stringify(topic)}`);
  const qos = packet.qos;
  const id = packet.messageId ?? 0;
  // [MQTT-2.3.1-1] QoS 1/2 packets carry a non-zero packet identifier.
  if (qos > 0 && id === 0) throw new MqttProtocolError(ReasonCode.MalformedPacket, 'PUBLISH with packet identifier 0');

  // A resend of a QoS 2 publish not yet released: acknowledge, never deliver twice [MQTT-4.3.3-?];
  // after a crash, one whose message may not be logged is logged again under its dedupe id.
  const resend = qos === 2 ? session.inboundQos2.resend(id) : null;
  if (resend?.kind === 'acknowledge') {
    client.send({ cmd: 'pubrec', messageId: id });
    return;
  }
  if (resend?.kind === 'wait') {
    const slot = client.reserveAck(2);
    const pubrec = { cmd: 'pubrec', messageId: id } as const;
    resend.done.then(() => client.completeAck(slot, pubrec), () => client.completeAck(slot, client.isV5 ? { ...pubrec, reasonCode: ReasonCode.UnspecifiedError } : null));
    return;
  }
  // [MQTT-3.3.4-7] a client keeps at most Receive Maximum QoS 1/2 publishes unacknowledged (no
  // PUBACK, or no PUBCOMP: the id is kept until PUBREL); one more is DISCONNECT 0x93 (MQTT 5 §4.9).
  // A resend of a QoS 2 id already held is not one more.
  if (qos > 0 && resend === null && client.unackedQos1 + session.inboundQos2.size >= gateway.options.receiveMaximum) {
    throw new MqttProtocolError(ReasonCode.ReceiveMaximumExceeded, `more than Receive Maximum (${gateway.options.receiveMaximum}) QoS 1/2 publishes unacknowledged`);
  }

  const subject = topicToSubject(topic);
  const principal = client.principal;
  if (principal !== null && !principal.canPublish(subject)) {
    gateway.stats.deniedPublishes++;
    // v5: refused with 0x87; 3.1.1 has no way to say so, so it acknowledges as usual [MQTT-3.3.5-2].
    const reasonCode = client.isV5 ? ReasonCode.NotAuthorized : undefined;
    if (qos === 1) client.send({ cmd: 'puback', messageId: id, reasonCode });
    if (qos === 2) {
      if (client.isV5) client.send({ cmd: 'pubrec', messageId: id, reasonCode });
      else {
        session.inboundQos2.begin(id, null);
        client.send({ cmd: 'pubrec', messageId: id });
      }
    }
    return;
  }

  const p = packet.properties ?? {};
  const message: MqttMessage = {
    topic,
    payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
    qos: qos as QoS,
    retain: packet.retain,
    properties: {
      payloadFormatIndicator: p.payloadFormatIndicator,
      messageExpiryInterval: p.messageExpiryInterval,
      contentType: p.contentType,
      responseTopic: p.responseTopic,
      correlationData: p.correlationData,
      userProperties: p.userProperties,
    },
    receivedAt: Date.now(),
    origin: session.hasNoLocal ? session.originTag : null,
  };
  const done = qos === 2 ? publishQos2(client, session, id, message, resend?.kind === 'log-again' ? resend.msgId : null) : gateway.publish(message);
  if (qos === 0) {
    done.catch((e: unknown) => gateway.log('publish failed:', e));
    return;
  }
  // [MQTT-4.6.0-2] acknowledgements go out in the order the publishes arrived,
  // even when one (a retained message) takes longer to store than the next.
  const slot = client.reserveAck(qos);
  done.then(
    () => client.completeAck(slot, { cmd: qos === 1 ? 'puback' : 'pubrec', messageId: id }),
    (error: unknown) => {
      gateway.log('publish failed:', error);
      if (qos === 2) session.inboundQos2.release(id);
      // 3.1.1 has no failure ack: close without one, the client sends the message again [MQTT-4.4.0-1].
      if (!client.isV5) return client.completeAck(slot, null);
      // A stream that refused the message says why (0x97 when it is full); anything else is 0x80.
      const cmd = qos === 1 ? 'puback' : 'pubrec';
      if (!(error instanceof StreamPublishError)) return client.completeAck(slot, { cmd, messageId: id, reasonCode: ReasonCode.UnspecifiedError });
      const properties = gateway.options.sendReasonStrings ? { reasonString: error.message } : undefined;
      client.completeAck(slot, { cmd, messageId: id, reasonCode: error.reasonCode, properties });
    },
  );
}

/**
 * Method B with exactly once across a crash (inbound-qos2.ts): the id is saved
 * with a dedupe id before the message is logged under it. `msgId`: a restored
 * exchange's dedupe id (its record is saved already), null for a new one.
 */
function publishQos2(client: MqttClient, session: Session, id: number, message: MqttMessage, msgId: string | null): Promise<void> {
  const gateway = client.gateway;
  const inbound = session.inboundQos2;
  let saved: Promise<void> | null = null;
  if (msgId === null) {
    msgId = gateway.nextMsgId();
    inbound.begin(id, msgId);
    saved = gateway.persistInflight(session);
  }
  const logAs = msgId;
  const done = saved === null ? gateway.publish(message, logAs) : saved.then(() => gateway.publish(message, logAs));
  inbound.track(id, done);
  return done;
}

/** MQTT 5 topic alias (§3.3.2.3.4): set a mapping, or use one. */
function resolveTopic(client: MqttClient, packet: IPublishPacket): string {
  const alias = packet.properties?.topicAlias;
  if (alias === undefined) return packet.topic;
  if (!client.isV5 || alias === 0 || alias > client.gateway.options.topicAliasMaximum) {
    throw new MqttProtocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} is out of range`); // [MQTT-3.3.2-8/9]
  }
  if (packet.topic.length > 0) {
    (client.topicAliases ??= new Map()).set(alias, packet.topic);
    return packet.topic;
  }
  const topic = client.topicAliases?.get(alias);
  if (topic === undefined) throw new MqttProtocolError(ReasonCode.ProtocolError, `topic alias ${alias} was never set`);
  return topic;
}
