// Options of the MQTT gateway, with defaults.

import { connectionIdCounter } from '../../core/connection/connection-ids.ts';
import type { Authorizer } from '../../core/auth/authorizer.ts';
import type { Broker } from '../../core/broker/broker.ts';
import type { TlsServerOptions } from '../../core/connection/tls-material.ts';
import type { MqttEvents } from './mqtt-events.ts';
import type { MqttSessionStore, RetainedStore } from './store.ts';

export interface MqttGatewayOptions {
  broker: Broker;
  /**
   * This gateway's stable name (default 'mqtt'). Session records carry it; on
   * start a gateway restores the stored sessions it owned. Give each gateway of
   * a cluster its own name.
   */
  name?: string;
  /** Who may connect, publish and subscribe; default: everyone may do everything. */
  authorizer?: Authorizer;
  host?: string;
  /** TCP port; 0 = any free port (tests). Default 1883. */
  port?: number;
  /** MQTT over TLS only on this port (8883 by convention); `mapCertificate` = verify_and_map. */
  tls?: TlsServerOptions & { mapCertificate?: boolean };
  /** Handshake failures (timeout, plain text, untrusted certificate): the socket is closed, nothing else affected. */
  onTlsError?: (error: Error, remote: string) => void;
  retainedStore?: RetainedStore;
  sessionStore?: MqttSessionStore;
  /**
   * Where retained messages and persistent sessions live when no store is given:
   * 'memory' (default) or 'jetstream' (streams MQTT_retained and MQTT_sessions,
   * created on start through $JS.API over the broker).
   */
  persistence?: 'memory' | 'jetstream';
  /** Storage of those streams: 'file' (default) or 'memory'. */
  jetStreamStorage?: 'file' | 'memory';
  /** Largest packet accepted, fixed header included (MQTT 5 Maximum Packet Size). */
  maxPacketSize?: number;
  /**
   * Largest first packet (CONNECT) accepted, default 64 KiB: what a connection
   * nobody has authenticated yet may make the server hold. A CONNECT needs more
   * only with a will payload, user name or password near their 65,535-byte limits.
   */
  maxConnectPacketSize?: number;
  /** A connection that sends no CONNECT within this time is closed. */
  connectTimeoutMs?: number;
  /** Cap on the client's keep alive, seconds (0 = no cap); reported as Server Keep Alive. */
  maxKeepAlive?: number;
  /**
   * Store NATS and HTTP publishes with `Mqtt-Retain: true` as retained messages
   * (default false: it takes a subscription to every subject, see retain-capture.ts).
   */
  retainFromHeaders?: boolean;
  /** Topic aliases a v5 client may use inbound, and at most as many the gateway assigns it outbound. */
  topicAliasMaximum?: number;
  /** Inbound QoS 2 publishes a client may have unreleased at once. */
  receiveMaximum?: number;
  /**
   * QoS 1/2 messages a session queues in memory beyond its in-flight window
   * (config `max_queued_messages`). Beyond it (or `maxQueuedBytes`), a session
   * whose messages are in the JetStream message log keeps its place there;
   * other messages are dropped, counted and logged (README "Queue limits").
   */
  maxQueued?: number;
  /** QoS 1/2 messages in flight to one client at most (the client's Receive Maximum may be lower). */
  maxInflight?: number;
  /** Payload and topic bytes of those messages, per session (config `max_queued_bytes`). */
  maxQueuedBytes?: number;
  /** Bytes a connection may have unwritten before it is cut off as a slow consumer. */
  maxPendingBytes?: number;
  /**
   * A connection with bytes waiting that takes none of them for this long has
   * stopped reading: it is cut off as a slow consumer (nats-server's
   * write_deadline; 2 s here, so a stuck QoS 0 subscriber goes before its
   * buffer grows large).
   */
  writeDeadlineMs?: number;
  /** Upper bound on session expiry, seconds (0xFFFFFFFF = never expires). */
  maxSessionExpiry?: number;
  /** How long an MQTT 5 request's correlation token accepts NATS replies. */
  replyTtlMs?: number;
  sendReasonStrings?: boolean;
  /** A detached persistent session that queued messages is saved this long after the first one. */
  sessionSaveDelayMs?: number;
  /**
   * How often the gateway looks for stored sessions whose expiry has passed
   * while no gateway holds them (default 60 s): detached ones, and ones whose
   * gateway died with the client connected.
   */
  expirySweepMs?: number;
  log?: (line: string) => void;
  /** Connects, closes (debug) and packets (trace) for the server log; see mqtt-events.ts. */
  events?: MqttEvents;
  /** Connection ids (cids) for /connz; default a counter of the gateway's own. */
  connectionIds?: () => number;
}

export type ResolvedMqttOptions = Required<Omit<MqttGatewayOptions, 'authorizer' | 'retainedStore' | 'sessionStore' | 'log' | 'events' | 'tls' | 'onTlsError'>>;

export const NEVER_EXPIRES = 0xffffffff;
/** Large, so that an offline session misses nothing under any usual load; memory stays bounded by bytes. */
export const DEFAULT_MAX_QUEUED = 100_000;
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export function resolveMqttOptions(options: MqttGatewayOptions): ResolvedMqttOptions {
  return {
    broker: options.broker,
    name: options.name ?? 'mqtt',
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 1883,
    maxPacketSize: options.maxPacketSize ?? 1024 * 1024 + 1024,
    maxConnectPacketSize: options.maxConnectPacketSize ?? 64 * 1024,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    maxKeepAlive: options.maxKeepAlive ?? 0,
    topicAliasMaximum: options.topicAliasMaximum ?? 1024,
    retainFromHeaders: options.retainFromHeaders ?? false,
    receiveMaximum: options.receiveMaximum ?? 65535,
    maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
    maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    maxInflight: options.maxInflight ?? 100,
    maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
    writeDeadlineMs: options.writeDeadlineMs ?? 2_000,
    maxSessionExpiry: options.maxSessionExpiry ?? NEVER_EXPIRES,
    replyTtlMs: options.replyTtlMs ?? 60_000,
    sendReasonStrings: options.sendReasonStrings ?? true,
    persistence: options.persistence ?? 'memory',
    sessionSaveDelayMs: options.sessionSaveDelayMs ?? 50,
    expirySweepMs: options.expirySweepMs ?? 60_000,
    jetStreamStorage: options.jetStreamStorage ?? 'file',
    connectionIds: options.connectionIds ?? connectionIdCounter(),
  };
}
