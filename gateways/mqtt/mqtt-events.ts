// MQTT connection events for the server log, as nats-server's -D and -V do
// for NATS: at debug a line when a client connects and when it goes (with
// the reason, client id, user and address); at trace every packet in
// (`<<-`) and out (`->>`), payloads summarised by size.

import type { Packet } from 'mqtt-packet';
import type { MqttClient } from './mqtt-client.ts';

export interface MqttEvents {
  connected(client: MqttClient): void;
  closed(client: MqttClient, reason: string): void;
  /** Set only when packets are traced: the hot path checks for it once per packet. */
  readonly packet?: (client: MqttClient, direction: 'in' | 'out', packet: Packet) => void;
}

/** The part of pino these events use. */
export interface EventLogger {
  debug(fields: object, message: string): void;
  trace(fields: object, message: string): void;
  isLevelEnabled(level: string): boolean;
}

function who(client: MqttClient): Record<string, unknown> {
  const { connection, principal } = client;
  return {
    cid: client.id,
    type: connection.transport === 'websocket' ? 'websocket-mqtt' : 'mqtt',
    ...(client.clientId === '' ? {} : { client_id: client.clientId }),
    ...(principal === null || principal.name === 'anonymous' ? {} : { user: principal.name }),
    ip: connection.remoteAddress,
    port: connection.remotePort,
  };
}

/** A packet as one trace line, nats-server style: `PUBLISH a/b qos=1 id=7 retain=false 5 bytes`. */
export function describePacket(packet: Packet): string {
  const name = packet.cmd.toUpperCase();
  switch (packet.cmd) {
    case 'publish':
      return `${name} ${packet.topic} qos=${packet.qos}${packet.messageId === undefined ? '' : ` id=${packet.messageId}`} retain=${packet.retain} ${packet.payload.length} bytes`;
    case 'subscribe':
      return `${name} id=${packet.messageId} ${packet.subscriptions.map((s) => `${s.topic}@${s.qos}`).join(' ')}`;
    case 'unsubscribe':
      return `${name} id=${packet.messageId} ${packet.unsubscriptions.join(' ')}`;
    case 'connect':
      return `${name} client_id=${JSON.stringify(packet.clientId)} v${packet.protocolVersion ?? 4} clean=${packet.clean} keepalive=${packet.keepalive}`;
    case 'connack':
      return `${name} ${packet.reasonCode ?? packet.returnCode ?? 0} session_present=${packet.sessionPresent}`;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
    case 'unsuback':
      return `${name} id=${packet.messageId}`;
    case 'suback':
      return `${name} id=${packet.messageId} ${packet.granted.join(',')}`;
    case 'disconnect':
      return `${name}${packet.reasonCode === undefined ? '' : ` ${packet.reasonCode}`}`;
    default:
      return name;
  }
}

export function mqttLogEvents(logger: EventLogger): MqttEvents {
  const trace = logger.isLevelEnabled('trace');
  return {
    connected: (client) => logger.debug({ ...who(client), version: client.protocolVersion, clean: client.cleanStart, keep_alive: client.keepAlive }, 'MQTT client connected'),
    closed: (client, reason) => logger.debug({ ...who(client), reason }, 'MQTT client closed'),
    ...(trace ? { packet: (client, direction, packet) => logger.trace(who(client), `${direction === 'in' ? '<<-' : '->>'} [${describePacket(packet)}]`) } : {}),
  };
}
