// The MQTT gateway in the registry: the `mqtt` section (enabled, host, port),
// --mqtt_port, default port 1883 (IANA's MQTT port). Sessions and retained
// messages live in JetStream when the core (or the cluster) has it.

import type { Descriptor } from '../descriptor.ts';
import { listenerComponent, listenerSection, portSetting, sectionKeys, type ListenerSection } from '../listener-section.ts';
import { createMqttGateway } from './gateway.ts';

/** IANA's port for MQTT without TLS. */
const MQTT_PORT = 1883;

export const mqttDescriptor: Descriptor<ListenerSection, 'mqtt'> = {
  name: 'mqtt',
  kind: 'gateway',
  label: 'MQTT',
  defaultPort: MQTT_PORT,
  ...portSetting('mqtt'),
  help: '      --mqtt_port <port>       MQTT 3.1.1/5 listener (default 1883)\n',
  parse: (raw, defaultHost) => listenerSection(sectionKeys(raw, 'mqtt'), 'mqtt', MQTT_PORT, defaultHost),
  create(section, { broker, authorizer, name, jetstream }) {
    if (!section.enabled) return null;
    const gateway = createMqttGateway({ broker, authorizer, name, host: section.host, port: section.port, persistence: jetstream ? 'jetstream' : 'memory' });
    return listenerComponent(section, gateway, { accept: (connection) => gateway.accept(connection) });
  },
};
