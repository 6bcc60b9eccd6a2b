// The QoS 1/2 acknowledgement packets (MQTT 3.1.1 §3.4-3.7, MQTT 5 §3.4-3.7 and
// §4.3): PUBACK and PUBREC/PUBCOMP for our deliveries, PUBREL for the client's
// QoS 2 publishes.

import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet';
import type { MqttClient } from '../mqtt-client.ts';
import { MqttProtocolError, ReasonCode } from '../reason-codes.ts';
import type { Session } from '../session.ts';

function sessionOf(client: MqttClient, what: string): Session {
  if (client.session === null) throw new MqttProtocolError(ReasonCode.ProtocolError, `${what} before CONNECT`);
  return client.session;
}

export function handlePuback(client: MqttClient, packet: IPubackPacket): void {
  // An unknown id is ignored: it may be a late ack from before a reconnect.
  sessionOf(client, 'PUBACK').acknowledge(packet.messageId ?? 0);
}

export function handlePubrec(client: MqttClient, packet: IPubrecPacket): void {
  const id = packet.messageId ?? 0;
  const failed = (packet.reasonCode ?? 0) >= 0x80;
  const session = sessionOf(client, 'PUBREC');
  const known = session.received(id, failed);
  if (failed) return; // MQTT 5 §4.3.3: the exchange ends, no PUBREL
  // [MQTT-4.3.3-?] answer PUBREC with PUBREL; v5 says 0x92 when the id is unknown.
  if (!known) {
    if (client.isV5) client.send({ cmd: 'pubrel', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound });
    else client.send({ cmd: 'pubrel', messageId: id });
    return;
  }
  // [MQTT-4.3.3-?] the server stores the PUBREC state before PUBREL: after a crash it
  // resends PUBREL, never the PUBLISH the client already received (exactly once).
  // When the save fails, the connection is closed without PUBREL: the client keeps the
  // packet id, so the PUBLISH the stored record still holds is no second delivery.
  afterSave(client, session, { cmd: 'pubrel', messageId: id });
}

/**
 * Send `packet` once the session's record is saved (persistent sessions with a
 * message log), in order with the other acknowledgements [MQTT-4.6.0-4], without
 * holding up the packets that follow; a failed save closes the connection instead.
 */
function afterSave(client: MqttClient, session: Session, packet: IPubrelPacket | IPubcompPacket): void {
  const saving = client.gateway.persistInflight(session);
  if (saving === null) return client.send(packet);
  const slot = client.reserveAck(2);
  saving.then(
    () => client.completeAck(slot, packet),
    (error: unknown) => {
      client.gateway.log(error);
      client.completeAck(slot, null);
    },
  );
}

export function handlePubcomp(client: MqttClient, packet: IPubcompPacket): void {
  sessionOf(client, 'PUBCOMP').complete(packet.messageId ?? 0);
}

export function handlePubrel(client: MqttClient, packet: IPubrelPacket): void {
  const session = sessionOf(client, 'PUBREL');
  const id = packet.messageId ?? 0;
  // Releasing the id allows a new publish with it to be delivered again [MQTT-4.3.3-?]:
  // PUBCOMP only once the release is saved, or after a crash the client's next PUBLISH
  // with this id would be taken for a resend and dropped.
  if (session.inboundQos2.release(id)) afterSave(client, session, { cmd: 'pubcomp', messageId: id });
  else if (!client.isV5) client.send({ cmd: 'pubcomp', messageId: id });
  else client.send({ cmd: 'pubcomp', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound });
}
