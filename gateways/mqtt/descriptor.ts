// The MQTT gateway in the registry: the `mqtt` section (enabled, host, port,
// tls, max_queued_messages, max_queued_bytes), --mqtt_port, default port 1883
// (IANA's MQTT port; 8883 is the convention for MQTT over TLS, set it with the
// port). Sessions and retained
// messages live in JetStream when the core (or the cluster) has it.

import { int } from '../../core/config/setting-values.ts';
import type { Descriptor } from '../descriptor.ts';
import { listenerComponent, listenerSection, listenerSettings, sectionKeys, sectionTls, tlsErrorLogger, tlsHelp, type ListenerSection } from '../listener-section.ts';
import { createMqttGateway } from './gateway.ts';

/** IANA's port for MQTT without TLS. */
const MQTT_PORT = 1883;

/** The mqtt section: its listener and the per-session queue limits (mosquitto's key names). */
export interface MqttSection extends ListenerSection {
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
}

function parseMqttSection(raw: unknown, defaultHost: string): MqttSection {
  const wire = sectionKeys(raw, 'mqtt', ['max_queued_messages', 'max_queued_bytes']);
  const limit = (key: 'max_queued_messages' | 'max_queued_bytes'): number | undefined =>
    wire[key] === undefined ? undefined : int(wire[key], `mqtt.${key}`, 1, Number.MAX_SAFE_INTEGER);
  return { ...listenerSection(wire, 'mqtt', MQTT_PORT, defaultHost), maxQueuedMessages: limit('max_queued_messages'), maxQueuedBytes: limit('max_queued_bytes') };
}

export const mqttDescriptor: Descriptor<MqttSection, 'mqtt'> = {
  name: 'mqtt',
  kind: 'gateway',
  label: 'MQTT',
  defaultPort: MQTT_PORT,
  ...listenerSettings('mqtt'),
  help: '      --mqtt_port <port>       MQTT 3.1.1/5 listener (default 1883)\n' + tlsHelp('mqtt'),
  parse: parseMqttSection,
  create(section, { broker, authorizer, name, jetstream, logger }) {
    if (!section.enabled) return null;
    const gateway = createMqttGateway({
      broker, authorizer, name, host: section.host, port: section.port, persistence: jetstream ? 'jetstream' : 'memory',
      maxQueued: section.maxQueuedMessages, maxQueuedBytes: section.maxQueuedBytes,
      tls: sectionTls(section, 'mqtt'), onTlsError: tlsErrorLogger(logger, 'MQTT'),
    });
    return listenerComponent(section, gateway, { accept: (connection) => gateway.accept(connection) });
  },
};
