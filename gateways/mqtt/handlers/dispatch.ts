// Routes each decoded packet to its handler; also PINGREQ, DISCONNECT and AUTH,
// which need only a few lines each.

import type { IDisconnectPacket, Packet } from 'mqtt-packet';
import type { MqttClient } from '../mqtt-client.ts';
import { MqttProtocolError, ReasonCode } from '../reason-codes.ts';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './acks.ts';
import { handleConnect } from './connect.ts';
import { handlePublish } from './publish.ts';
import { handleSubscribe } from './subscribe.ts';
import { handleUnsubscribe } from './unsubscribe.ts';

export function dispatchPacket(client: MqttClient, packet: Packet): void | Promise<void> {
  if (packet.cmd !== 'connect' && client.state !== 'connected') {
    // [MQTT-3.1.0-1] the first packet must be CONNECT.
    throw new MqttProtocolError(ReasonCode.ProtocolError, `${packet.cmd.toUpperCase()} before CONNECT`);
  }
  switch (packet.cmd) {
    // Paced with other CONNECTs (turn-pacer.ts); a connection closed while it waited is skipped.
    case 'connect': return client.gateway.pacer.admit(() => (client.state === 'closed' ? Promise.resolve() : handleConnect(client, packet)));
    case 'publish':
      client.countIn(packet.payload.length);
      return handlePublish(client, packet);
    case 'puback': return handlePuback(client, packet);
    case 'pubrec': return handlePubrec(client, packet);
    case 'pubrel': return handlePubrel(client, packet);
    case 'pubcomp': return handlePubcomp(client, packet);
    case 'subscribe': return handleSubscribe(client, packet);
    case 'unsubscribe': return handleUnsubscribe(client, packet);
    case 'pingreq':
      client.send({ cmd: 'pingresp' }); // [MQTT-3.12.4-1]
      return;
    case 'disconnect': return handleDisconnect(client, packet);
    case 'auth':
      // No enhanced authentication was negotiated, so AUTH is a protocol error (MQTT 5 §4.12).
      throw new MqttProtocolError(ReasonCode.ProtocolError, 'AUTH without an authentication method');
    default:
      // CONNACK, SUBACK, UNSUBACK, PINGRESP only flow server -> client.
      throw new MqttProtocolError(ReasonCode.ProtocolError, `${packet.cmd.toUpperCase()} is not a client packet`);
  }
}

/** DISCONNECT: 0x00 discards the will [MQTT-3.14.4-3], 0x04 keeps it; v5 may update session expiry. */
function handleDisconnect(client: MqttClient, packet: IDisconnectPacket): void {
  const session = client.session;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (client.isV5 && expiry !== undefined && session !== null) {
    // [MQTT-3.14.2-2] a session that expired at close cannot be made persistent here.
    if (session.expiryInterval === 0 && expiry !== 0) {
      throw new MqttProtocolError(ReasonCode.ProtocolError, 'DISCONNECT set a session expiry after connecting with 0');
    }
    session.expiryInterval = Math.min(expiry, client.gateway.options.maxSessionExpiry);
  }
  client.willDiscarded = !(client.isV5 && packet.reasonCode === ReasonCode.DisconnectWithWill);
  client.closeReason = 'client sent DISCONNECT';
  client.close(); // [MQTT-3.14.4-1] the server closes; no DISCONNECT back
}
