// The seam through which /connz lists connections of protocols core/server
// does not know (DESIGN "Dependency rule": core never imports gateways). A
// gateway or connector describes each open connection as a plain snapshot;
// connz sorts, pages and renders them beside the NATS clients, in one cid
// space (nats-server lists MQTT and WebSocket clients in the same /connz).

import type { ConnectionTls } from '../../connection/connection.ts';

/** What a /connz entry's `type` says carries it. */
export const CONNECTION_TYPES = ['nats', 'websocket-nats', 'mqtt', 'websocket-mqtt', 'http-stream', 'kafka-mapping'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

export interface ConnectionSubscription {
  readonly subject: string;
  readonly qgroup?: string;
  readonly sid: string;
  readonly msgs: number;
}

/** One open connection as /connz shows it, read when the page is built. */
export interface ConnectionSnapshot {
  readonly cid: number;
  readonly type: ConnectionType;
  readonly ip: string;
  readonly port: number;
  readonly startMs: number;
  readonly lastMs: number;
  /** Round trip in ms; -1 = not measured (rendered as 0s). */
  readonly rttMs: number;
  readonly pendingBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  readonly subscriptionCount: number;
  /** Built only for the rows on the page, and only with subs=1 or subs=detail. */
  subscriptions(): readonly ConnectionSubscription[];
  readonly name?: string;
  readonly lang?: string;
  readonly version?: string;
  /** The authenticated user; shown with auth=1, as nats-server's authorized_user. */
  readonly user?: string;
  readonly tls?: ConnectionTls;
  /** The MQTT client identifier (nats-server's mqtt_client; /connz?mqtt_client= filters on it). */
  readonly mqttClient?: string;
  /** The protocol's own fields under its name, e.g. { mqtt: { keep_alive: 60 } }. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A part of the process that has connections to list (an MQTT gateway, the Kafka bridge). */
export interface ConnectionSource {
  connections(): Iterable<ConnectionSnapshot>;
}

export type { ConnectionIds } from '../../connection/connection-ids.ts';
