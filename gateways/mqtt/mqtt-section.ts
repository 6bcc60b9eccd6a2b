// The `mqtt {}` config section: nats-server's keys where they mean something
// here, mosquitto's names for the limits nats-server has none for, and a
// warning (naming the key, and the file through the config loader) for the
// nats-server keys that tune its JetStream consumers, which this gateway does
// not use (README "Why no JetStream consumer per session"). The limits can
// also be set with flags and SWITCHBOARD_MQTT_* variables.

import { parseAuthorization, type AuthOptions } from '../../core/config/auth-options.ts';
import type { ConfigWarning, ExtensionFlag } from '../../core/config/config-extension.ts';
import { ConfigError } from '../../core/config/config-error.ts';
import { bool, hostPort, int, isObject } from '../../core/config/setting-values.ts';
import { parseSize } from '../../core/config/size.ts';
import { listenerSection, sectionKeys, type ListenerSection } from '../listener-section.ts';

/** IANA's port for MQTT without TLS. */
export const MQTT_PORT = 1883;

export interface MqttSection extends ListenerSection {
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  /** max_keepalive (mosquitto): the Server Keep Alive cap, seconds. */
  maxKeepAlive?: number;
  /** max_packet_size (mosquitto): the largest packet accepted, announced to v5 clients. */
  maxPacketSize?: number;
  /** max_ack_pending / max_inflight (nats-server): QoS 1/2 messages in flight to one client. */
  maxInflight?: number;
  /** receive_maximum: QoS 1/2 publishes a client may have unacknowledged, announced to v5 clients. */
  receiveMaximum?: number;
  /** retain_from_headers: NATS and HTTP publishes with `Mqtt-Retain: true` become retained messages. */
  retainFromHeaders?: boolean;
  /** authorization {} (nats-server): the users MQTT clients log in as, instead of the server's. */
  auth?: AuthOptions;
  /** Keys accepted without effect. */
  readonly ignored: readonly ConfigWarning[];
}

/** nats-server keys that tune its per-subscription JetStream consumers and API calls; this gateway has none. */
const IGNORED: Readonly<Record<string, string>> = {
  ack_wait: 'QoS 1/2 deliveries are resent on reconnect only, as MQTT 5 requires [MQTT-4.4.0-1]; there is no consumer ack wait',
  ackwait: 'see ack_wait',
  js_api_timeout: 'the gateway\'s JetStream requests have their own timeouts',
  api_timeout: 'see js_api_timeout',
  js_domain: 'the gateway uses the JetStream of the broker it runs on',
  consumer_replicas: 'the gateway creates no JetStream consumers',
  consumer_memory_storage: 'the gateway creates no JetStream consumers',
  consumer_inactive_threshold: 'the gateway creates no JetStream consumers',
  consumer_auto_cleanup: 'the gateway creates no JetStream consumers',
  stream_replicas: 'set the top-level stream_replicas (cluster mode): it applies to the MQTT streams too',
  no_auth_user: 'without an mqtt authorization block, set the top-level no_auth_user (it applies to MQTT clients too)',
};

/** Keys with a meaning here, besides enabled/host/port/tls: setting name -> how to read it. */
const LIMITS = {
  max_queued_messages: (v: unknown, at: string) => int(v, at, 1, Number.MAX_SAFE_INTEGER),
  max_queued_bytes: (v: unknown, at: string) => size(v, at, 1),
  max_keepalive: (v: unknown, at: string) => int(v, at, 0, 65535),
  max_packet_size: (v: unknown, at: string) => size(v, at, 64),
  max_inflight: (v: unknown, at: string) => int(v, at, 0, 65535),
  receive_maximum: (v: unknown, at: string) => int(v, at, 1, 65535),
  retain_from_headers: (v: unknown, at: string) => bool(v, at),
} as const;
type LimitKey = keyof typeof LIMITS;

/** nats-server's names for max_inflight. */
const INFLIGHT_ALIASES = ['max_ack_pending', 'max_pending'];

function size(value: unknown, key: string, min: number): number {
  const n = parseSize(value, key);
  if (n < min || n > 268_435_455) throw new ConfigError(key, `must be from ${min} bytes to 256MB (MQTT's largest packet), got ${n}`);
  return n;
}

export function parseMqttSection(raw: unknown, defaultHost: string): MqttSection {
  const known = [...Object.keys(LIMITS), ...INFLIGHT_ALIASES, 'listen', 'net', 'authorization', 'authentication', ...Object.keys(IGNORED)];
  const wire = { ...sectionKeys(raw, 'mqtt', known) };
  // nats-server's listen "host:port" and net, as its top-level keys.
  if (wire.listen !== undefined) {
    const { host, port } = hostPort(wire.listen, 'mqtt.listen');
    wire.host ??= host;
    wire.port ??= port;
  }
  wire.host ??= wire.net;
  const limit = <K extends LimitKey>(key: K, at: string = key): ReturnType<(typeof LIMITS)[K]> | undefined =>
    (wire[at] === undefined ? undefined : (LIMITS[key](wire[at], `mqtt.${at}`) as ReturnType<(typeof LIMITS)[K]>));
  const inflightKey = ['max_inflight', ...INFLIGHT_ALIASES].find((k) => wire[k] !== undefined) ?? 'max_inflight';
  const inflight = limit('max_inflight', inflightKey);
  const authWire = wire.authorization ?? wire.authentication;
  const section: MqttSection = {
    ...listenerSection(wire, 'mqtt', MQTT_PORT, defaultHost),
    maxQueuedMessages: limit('max_queued_messages'),
    maxQueuedBytes: limit('max_queued_bytes'),
    maxKeepAlive: limit('max_keepalive'),
    maxPacketSize: limit('max_packet_size'),
    maxInflight: inflight === 0 ? undefined : inflight, // 0: the default, as in nats-server
    receiveMaximum: limit('receive_maximum'),
    retainFromHeaders: limit('retain_from_headers'),
    ignored: Object.keys(IGNORED)
      .filter((k) => wire[k] !== undefined && !(k === 'no_auth_user' && authWire !== undefined))
      .map((k) => ({ key: `mqtt.${k}`, reason: `is accepted and ignored: ${IGNORED[k]}` })),
  };
  if (authWire !== undefined) section.auth = parseAuthorization(authWire, wire.no_auth_user, 'mqtt.authorization');
  return section;
}

/** --mqtt_<limit> flags and SWITCHBOARD_MQTT_<LIMIT> variables, a flag or variable winning over the file. */
export const MQTT_LIMIT_FLAGS: readonly ExtensionFlag[] = (Object.keys(LIMITS) as LimitKey[]).map((k) => ({
  key: `mqtt_${k}`, flag: `mqtt_${k}`, type: 'string', env: `SWITCHBOARD_MQTT_${k.toUpperCase()}`, namedInErrors: true,
}));

export function applyMqttLimitSettings(sections: Record<string, unknown>, settings: Readonly<Record<string, unknown>>): void {
  for (const k of Object.keys(LIMITS) as LimitKey[]) {
    const value = settings[`mqtt_${k}`];
    if (value === undefined) continue;
    const existing = sections.mqtt;
    sections.mqtt = { ...(isObject(existing) ? existing : typeof existing === 'boolean' ? { enabled: existing } : {}), [k]: LIMITS[k](value, `mqtt_${k}`) };
  }
}

export const MQTT_LIMITS_HELP = '      --mqtt_max_inflight, _max_queued_messages, _max_queued_bytes, _max_packet_size,\n' +
  '      --mqtt_max_keepalive, _receive_maximum <n>\n' +
  '                               MQTT limits (mqtt {} keys of the same names)\n' +
  '      --mqtt_retain_from_headers <true|false>\n' +
  '                               NATS/HTTP publishes with Mqtt-Retain: true are retained\n';
