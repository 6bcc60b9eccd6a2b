// The WebSocket gateway in the registry: the `websocket` section (enabled,
// host, port, tls, allowed_origins, same_origin, compression, as nats-server's
// `websocket {}` block names them), --websocket_port, default port 8081. NATS
// on every path, MQTT on /mqtt when the MQTT gateway runs.

import { ConfigError } from '../../core/config/config-error.ts';
import { bool } from '../../core/config/setting-values.ts';
import type { Descriptor } from '../descriptor.ts';
import { listenerComponent, listenerSection, listenerSettings, sectionKeys, sectionTls, tlsErrorLogger, tlsHelp, type ListenerSection } from '../listener-section.ts';
import { createWebSocketGateway, DEFAULT_WEBSOCKET_PORT } from './websocket-gateway.ts';

export interface WebSocketSection extends ListenerSection {
  allowedOrigins?: string[];
  sameOrigin: boolean;
  compression: boolean;
}

export const websocketDescriptor: Descriptor<WebSocketSection, 'websocket'> = {
  name: 'websocket',
  kind: 'gateway',
  label: 'WebSocket',
  defaultPort: DEFAULT_WEBSOCKET_PORT,
  ...listenerSettings('websocket'),
  help: '      --websocket_port <port>  NATS and MQTT over WebSocket (default 8081)\n' + tlsHelp('websocket'),
  parse(raw, defaultHost) {
    const ws = sectionKeys(raw, 'websocket', ['allowed_origins', 'same_origin', 'compression']);
    const origins = ws.allowed_origins;
    if (origins !== undefined && (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string'))) {
      throw new ConfigError('websocket.allowed_origins', 'must be a list of origins such as "https://app.example.com"');
    }
    return {
      ...listenerSection(ws, 'websocket', DEFAULT_WEBSOCKET_PORT, defaultHost),
      allowedOrigins: origins as string[] | undefined,
      sameOrigin: ws.same_origin === undefined ? false : bool(ws.same_origin, 'websocket.same_origin'),
      compression: ws.compression === undefined ? false : bool(ws.compression, 'websocket.compression'),
    };
  },
  create(section, context) {
    if (!section.enabled) return null;
    const tls = sectionTls(section, 'websocket');
    const gateway = createWebSocketGateway({
      nats: context.nats,
      mqtt: context.acceptor('mqtt'),
      host: section.host,
      port: section.port,
      tls,
      onTlsError: tlsErrorLogger(context.logger, 'WebSocket'),
      allowedOrigins: section.allowedOrigins,
      sameOrigin: section.sameOrigin,
      compression: section.compression,
    });
    // /varz `websocket` as nats-server names its fields, with the upgrade counters. Its
    // connections are listed by the protocol they carry (websocket-nats, websocket-mqtt).
    const monitor = {
      varz: {
        key: 'websocket',
        value: () => ({
          host: section.host,
          port: gateway.port,
          // nats-server's no_tls: present (true) only for a listener without TLS.
          ...(tls === undefined ? { no_tls: true } : {}),
          same_origin: section.sameOrigin,
          ...(section.allowedOrigins === undefined ? {} : { allowed_origins: section.allowedOrigins }),
          compression: section.compression,
          mqtt: context.acceptor('mqtt') !== undefined,
          upgrades: gateway.stats.upgrades,
          rejected_origins: gateway.stats.rejectedOrigins,
          rejected_credentials: gateway.stats.rejectedCredentials,
        }),
      },
    };
    return listenerComponent(section, gateway, { monitor });
  },
};
