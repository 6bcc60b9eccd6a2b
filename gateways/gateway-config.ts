// The gateway and connector sections of the configuration (`mqtt`,
// `http_gateway`, `websocket`, `kafka`): validated here, with the key and the
// reason, before anything listens. The core's config passes them through.

import { ConfigError } from '../core/config/config-error.ts';
import { bool, int, text } from '../core/config/setting-values.ts';
import { validateKafkaBridgeConfig, type KafkaBridgeConfig } from '../connectors/kafka/config.ts';

export interface ListenerSection {
  enabled: boolean;
  host: string;
  port: number;
  /** False for the no-config default port: if it is taken, warn and run without it. */
  required: boolean;
}

export interface WebSocketSection extends ListenerSection {
  allowedOrigins?: string[];
  sameOrigin: boolean;
  compression: boolean;
}

export interface GatewaysConfig {
  mqtt: ListenerSection;
  http: ListenerSection;
  websocket: WebSocketSection;
  kafka: KafkaBridgeConfig | null;
}

export const DEFAULT_PORTS = Object.freeze({ mqtt: 1883, http_gateway: 8080, websocket: 8081 });

type Wire = Record<string, unknown>;

function section(value: unknown, key: string, extra: readonly string[]): Wire {
  if (value === undefined) return {};
  if (typeof value === 'boolean') return { enabled: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(key, 'must be an object or true/false');
  const known = new Set(['enabled', 'host', 'port', ...extra]);
  for (const name of Object.keys(value)) if (!known.has(name)) throw new ConfigError(`${key}.${name}`, `unknown key (expected ${[...known].join(', ')})`);
  return value as Wire;
}

function listener(wire: Wire, key: keyof typeof DEFAULT_PORTS, defaultHost: string): ListenerSection {
  return {
    enabled: wire.enabled === undefined ? true : bool(wire.enabled, `${key}.enabled`),
    host: wire.host === undefined ? defaultHost : text(wire.host, `${key}.host`),
    port: wire.port === undefined ? DEFAULT_PORTS[key] : int(wire.port, `${key}.port`, 0, 65535),
    required: wire.port !== undefined,
  };
}

/** Gateways listen on the NATS host unless their section says otherwise. */
export function parseGatewaysConfig(sections: Record<string, unknown>, defaultHost: string): GatewaysConfig {
  const ws = section(sections.websocket, 'websocket', ['allowed_origins', 'same_origin', 'compression']);
  const origins = ws.allowed_origins;
  if (origins !== undefined && (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string'))) {
    throw new ConfigError('websocket.allowed_origins', 'must be a list of origins such as "https://app.example.com"');
  }
  let kafka: KafkaBridgeConfig | null = null;
  if (sections.kafka !== undefined) {
    try {
      kafka = validateKafkaBridgeConfig(sections.kafka);
    } catch (cause) {
      throw new ConfigError('kafka', cause instanceof Error ? cause.message : String(cause), { cause });
    }
  }
  return {
    mqtt: listener(section(sections.mqtt, 'mqtt', []), 'mqtt', defaultHost),
    http: listener(section(sections.http_gateway, 'http_gateway', []), 'http_gateway', defaultHost),
    websocket: {
      ...listener(ws, 'websocket', defaultHost),
      allowedOrigins: origins as string[] | undefined,
      sameOrigin: ws.same_origin === undefined ? false : bool(ws.same_origin, 'websocket.same_origin'),
      compression: ws.compression === undefined ? false : bool(ws.compression, 'websocket.compression'),
    },
    kafka,
  };
}
