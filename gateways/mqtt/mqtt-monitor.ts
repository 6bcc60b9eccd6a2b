// What the MQTT gateway adds to the core's monitor: each connection in /connz
// (type mqtt, or websocket-mqtt over /mqtt) with nats-server's mqtt_client and
// the session's figures, the /varz `mqtt` section, and its /metrics series.

import type { ConnectionSnapshot, MetricFamily, MonitorExtension } from '../descriptor.ts';
import type { MqttGatewayCore } from './gateway-core.ts';
import type { MqttClient } from './mqtt-client.ts';
import { ReasonCode } from './reason-codes.ts';

/** Sessions the gateway holds, by whether a client is attached (offline ones keep queueing QoS 1/2). */
export function sessionCounts(core: MqttGatewayCore): { connected: number; offline: number; queued: number; inFlight: number } {
  let connected = 0;
  let offline = 0;
  let queued = 0;
  let inFlight = 0;
  for (const session of core.sessions.values()) {
    if (session.connection === null) offline++;
    else connected++;
    queued += session.queued.length;
    inFlight += session.inflight.size;
  }
  return { connected, offline, queued, inFlight };
}

function snapshot(client: MqttClient): ConnectionSnapshot {
  const { connection, session, stats } = client;
  const subscriptions = session === null ? [] : [...session.subscriptions.values()];
  return {
    cid: client.id,
    type: connection.transport === 'websocket' ? 'websocket-mqtt' : 'mqtt',
    ip: connection.remoteAddress,
    port: connection.remotePort,
    startMs: client.startedAt,
    lastMs: client.lastSeen,
    rttMs: -1,
    pendingBytes: connection.writableLength,
    inMsgs: stats.inMsgs,
    outMsgs: stats.outMsgs,
    inBytes: stats.inBytes,
    outBytes: stats.outBytes,
    subscriptionCount: subscriptions.length,
    // Deliveries are not counted per MQTT subscription: msgs stays 0.
    subscriptions: () => subscriptions.map((sub) => ({ subject: sub.topicFilter, sid: sub.topicFilter, msgs: 0 })),
    user: client.principal === null || client.principal.name === 'anonymous' ? undefined : client.principal.name,
    tls: connection.tlsState,
    mqttClient: client.clientId === '' ? undefined : client.clientId,
    details: {
      mqtt: {
        state: client.state,
        protocol_version: client.protocolVersion === 5 ? 5 : 4,
        clean_session: client.cleanStart,
        keep_alive: client.keepAlive,
        session_expiry: session?.expiryInterval ?? 0,
        // The will's where and how, not its payload (connz shows no message bodies).
        ...(client.will === null ? {} : { will: { topic: client.will.message.topic, qos: client.will.message.qos, retain: client.will.message.retain, delay: client.will.delay } }),
        in_flight: session?.inflight.size ?? 0,
        queued: session?.queued.length ?? 0,
        subscriptions: subscriptions.map((sub) => ({ topic_filter: sub.topicFilter, qos: sub.qos })),
      },
    },
  };
}

function mqttFamilies(core: MqttGatewayCore): MetricFamily[] {
  const { stats } = core;
  const sessions = sessionCounts(core);
  return [
    { name: 'switchboard_mqtt_connections_total', type: 'counter', help: 'MQTT connections accepted since start', samples: [{ value: stats.totalConnections }] },
    {
      name: 'switchboard_mqtt_sessions',
      type: 'gauge',
      help: 'MQTT sessions this gateway holds, by whether a client is connected',
      samples: [
        { labels: { state: 'connected' }, value: sessions.connected },
        { labels: { state: 'offline' }, value: sessions.offline },
      ],
    },
    { name: 'switchboard_mqtt_queued_messages', type: 'gauge', help: 'QoS 1/2 messages queued for sessions beyond their in-flight window', samples: [{ value: sessions.queued }] },
    { name: 'switchboard_mqtt_inflight_messages', type: 'gauge', help: 'QoS 1/2 messages sent and not yet acknowledged', samples: [{ value: sessions.inFlight }] },
  ];
}

/** `port()`: the bound TCP port (0 before start). */
export function mqttMonitor(core: MqttGatewayCore, port: () => number): MonitorExtension {
  const { stats } = core;
  return {
    metrics: () => mqttFamilies(core),
    traffic: () => ({
      protocol: 'mqtt',
      msgsIn: stats.msgsIn,
      msgsOut: stats.msgsOut,
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
      dropped: {
        slow_consumer: stats.slowConsumers,
        queue_full: stats.droppedQueueFull,
        expired: stats.droppedExpired,
        max_packet_size: stats.droppedTooLarge,
        permission: stats.deniedPublishes,
      },
    }),
    *connections() {
      for (const client of core.clients) if (client.state !== 'closed') yield snapshot(client);
    },
    disconnect(cid) {
      for (const client of core.clients) {
        if (client.id !== cid || client.state === 'closed') continue;
        // MQTT 5 §3.14.2.1: 0x98 Administrative action; not a client DISCONNECT, so the will is sent [MQTT-3.1.2-8].
        client.close(ReasonCode.AdministrativeAction, 'disconnected by an operator');
        return true;
      }
      return false;
    },
    varz: {
      key: 'mqtt',
      value: () => {
        const sessions = sessionCounts(core);
        return {
          host: core.options.host,
          port: port(),
          max_packet_size: core.options.maxPacketSize,
          receive_maximum: core.options.receiveMaximum,
          max_queued: core.options.maxQueued,
          persistence: core.options.persistence,
          connections: core.stats.connections,
          total_connections: core.stats.totalConnections,
          sessions_connected: sessions.connected,
          sessions_offline: sessions.offline,
          queued: sessions.queued,
          in_flight: sessions.inFlight,
          slow_consumers: core.stats.slowConsumers,
        };
      },
    },
  };
}
