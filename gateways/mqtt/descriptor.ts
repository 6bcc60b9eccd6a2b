// The MQTT gateway in the registry: the `mqtt` section (mqtt-section.ts:
// listener, tls, limits, nats-server's keys), --mqtt_port and the limit flags, default port 1883
// (IANA's MQTT port; 8883 is the convention for MQTT over TLS, set it with the
// port). Sessions and retained
// messages live in JetStream when the core (or the cluster) has it.

import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import type { Descriptor } from '../descriptor.ts';
import { listenerComponent, listenerSettings, sectionTls, tlsErrorLogger, tlsHelp } from '../listener-section.ts';
import { createMqttGateway } from './gateway.ts';
import { applyMqttLimitSettings, MQTT_LIMIT_FLAGS, MQTT_LIMITS_HELP, MQTT_PORT, parseMqttSection, type MqttSection } from './mqtt-section.ts';
import { mqttLogEvents } from './mqtt-events.ts';

const listener = listenerSettings('mqtt');

export const mqttDescriptor: Descriptor<MqttSection, 'mqtt'> = {
  name: 'mqtt',
  kind: 'gateway',
  label: 'MQTT',
  defaultPort: MQTT_PORT,
  flags: [...listener.flags, ...MQTT_LIMIT_FLAGS],
  applySettings(sections, settings) {
    listener.applySettings?.(sections, settings);
    applyMqttLimitSettings(sections, settings);
  },
  help: '      --mqtt_port <port>       MQTT 3.1.1/5 listener (default 1883)\n' + tlsHelp('mqtt') + MQTT_LIMITS_HELP,
  parse: parseMqttSection,
  warnings: (section) => section.ignored,
  create(section, { broker, authorizer, name, jetstream, logger, connectionIds }) {
    if (!section.enabled) return null;
    const gateway = createMqttGateway({
      // mqtt { authorization {} }: MQTT clients log in as its users, as in nats-server.
      broker, authorizer: section.auth === undefined ? authorizer : createAuthorizer(section.auth), name,
      host: section.host, port: section.port, persistence: jetstream ? 'jetstream' : 'memory',
      maxQueued: section.maxQueuedMessages, maxQueuedBytes: section.maxQueuedBytes, maxKeepAlive: section.maxKeepAlive,
      maxPacketSize: section.maxPacketSize, maxInflight: section.maxInflight, receiveMaximum: section.receiveMaximum,
      connectionIds, retainFromHeaders: section.retainFromHeaders,
      tls: sectionTls(section, 'mqtt'), onTlsError: tlsErrorLogger(logger, 'MQTT'),
      events: mqttLogEvents(logger),
      log: (line) => logger.warn(line),
    });
    return listenerComponent(section, gateway, { accept: (connection) => gateway.accept(connection), monitor: gateway.monitor });
  },
};
