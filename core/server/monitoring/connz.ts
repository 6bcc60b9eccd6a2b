// GET /connz: open client connections with paging (offset, limit), sort,
// subs=1 (subjects) or subs=detail, cid=<n>, mqtt_client=<id> and auth=1, with
// nats-server's field names (NS server/monitor.go ConnInfo) and its 400 texts
// for bad queries. NATS clients come from the server; every other protocol's
// connections from the monitor extensions' connection sources (connection-source.ts).

import type { NatsClient } from '../nats-client.ts';
import type { ConnectionSnapshot, ConnectionType } from './connection-source.ts';
import { compactUptime, goDuration } from './durations.ts';
import { json, MonitorQueryError, type MonitorContext, type MonitorResponse } from './monitor-context.ts';

const DEFAULT_LIMIT = 1024;

export interface SubDetail {
  account?: string;
  subject: string;
  qgroup?: string;
  sid: string;
  msgs: number;
  cid: number;
}

export interface ConnInfo {
  cid: number;
  kind: 'Client';
  /** nats-server says 'nats', 'mqtt' or 'websocket'; Switchboard names the protocol and its carrier. */
  type: ConnectionType;
  ip: string;
  port: number;
  start: string;
  last_activity: string;
  rtt: string;
  uptime: string;
  idle: string;
  pending_bytes: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  name?: string;
  lang?: string;
  version?: string;
  authorized_user?: string;
  tls_version?: string;
  tls_cipher_suite?: string;
  mqtt_client?: string;
  /** Closed connections: when and why. */
  stop?: string;
  reason?: string;
  subscriptions_list?: string[];
  subscriptions_list_detail?: SubDetail[];
  /** The protocol's own fields (mqtt, http, kafka), as its connection source gives them. */
  [protocol: string]: unknown;
}

export interface Connz {
  server_id: string;
  now: string;
  num_connections: number;
  total: number;
  offset: number;
  limit: number;
  connections: ConnInfo[];
}

/**
 * A connection as connz sorts it. The ConnInfo (dates, subscription lists) is
 * only built for the rows on the requested page, so a page of 10 out of 100k
 * connections does not format 100k.
 */
export interface ConnRow {
  cid: number;
  startMs: number;
  lastMs: number;
  rttMs: number;
  subscriptions: number;
  pendingBytes: number;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  /** Closed connections only. */
  stopMs?: number;
  reason?: string;
  /** MQTT connections: the client identifier (?mqtt_client=). */
  mqttClient?: string;
  render(subs: SubsDetail, withAuth: boolean): ConnInfo;
}

export type SubsDetail = 'none' | 'list' | 'detail';

type SortKey = (r: ConnRow, now: number) => number;

/** nats-server's sort options: cid and start ascending, the rest largest first. */
const SORTS: Record<string, { key: SortKey; ascending: boolean; closedOnly?: boolean }> = {
  cid: { key: (r) => r.cid, ascending: true },
  start: { key: (r) => r.startMs, ascending: true },
  subs: { key: (r) => r.subscriptions, ascending: false },
  pending: { key: (r) => r.pendingBytes, ascending: false },
  msgs_to: { key: (r) => r.outMsgs, ascending: false },
  msgs_from: { key: (r) => r.inMsgs, ascending: false },
  bytes_to: { key: (r) => r.outBytes, ascending: false },
  bytes_from: { key: (r) => r.inBytes, ascending: false },
  last: { key: (r) => r.lastMs, ascending: false },
  idle: { key: (r, now) => (r.stopMs ?? now) - r.lastMs, ascending: false },
  uptime: { key: (r, now) => (r.stopMs ?? now) - r.startMs, ascending: false },
  rtt: { key: (r) => r.rttMs, ascending: false },
  stop: { key: (r) => r.stopMs ?? 0, ascending: false, closedOnly: true },
  reason: { key: () => 0, ascending: true, closedOnly: true },
};

export function nonNegativeInt(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new MonitorQueryError(name, `invalid ${name}: ${raw}`);
  return value;
}

/** A NATS client as a snapshot: it is listed like any other connection. */
export function natsSnapshot(client: NatsClient): ConnectionSnapshot {
  const o = client.options;
  const { connection, stats } = client;
  return {
    cid: client.id,
    type: connection.transport === 'websocket' ? 'websocket-nats' : 'nats',
    ip: connection.remoteAddress,
    port: connection.remotePort,
    startMs: client.startedAt.getTime(),
    lastMs: client.lastActivity,
    rttMs: client.rttMs,
    pendingBytes: client.pendingBytes,
    inMsgs: stats.inMsgs,
    outMsgs: stats.outMsgs,
    inBytes: stats.inBytes,
    outBytes: stats.outBytes,
    subscriptionCount: client.subscriptions.size,
    subscriptions: () => [...client.subscriptions.values()].map((s) => ({ subject: s.subject, ...(s.queue === null ? {} : { qgroup: s.queue }), sid: s.sid, msgs: s.delivered })),
    name: o.name || undefined,
    lang: o.lang || undefined,
    version: o.version || undefined,
    user: client.principal.name === 'anonymous' ? undefined : client.principal.name,
    tls: connection.tlsState,
  };
}

/** The sort fields of an open NATS client, read now; the snapshot and its ConnInfo are built on render. */
export function connRow(client: NatsClient, now: number): ConnRow {
  const { stats } = client;
  return {
    cid: client.id,
    startMs: client.startedAt.getTime(),
    lastMs: client.lastActivity,
    rttMs: client.rttMs,
    subscriptions: client.subscriptions.size,
    pendingBytes: client.pendingBytes,
    inMsgs: stats.inMsgs,
    outMsgs: stats.outMsgs,
    inBytes: stats.inBytes,
    outBytes: stats.outBytes,
    render: (subs, withAuth) => renderSnapshot(natsSnapshot(client), now, subs, withAuth),
  };
}

/** A source's connection as connz sorts it. */
export function snapshotRow(s: ConnectionSnapshot, now: number): ConnRow {
  return {
    cid: s.cid,
    startMs: s.startMs,
    lastMs: s.lastMs,
    rttMs: s.rttMs,
    subscriptions: s.subscriptionCount,
    pendingBytes: s.pendingBytes,
    inMsgs: s.inMsgs,
    outMsgs: s.outMsgs,
    inBytes: s.inBytes,
    outBytes: s.outBytes,
    mqttClient: s.mqttClient,
    render: (subs, withAuth) => renderSnapshot(s, now, subs, withAuth),
  };
}

export function connInfo(client: NatsClient, now: number, subs: SubsDetail, withAuth: boolean): ConnInfo {
  return renderSnapshot(natsSnapshot(client), now, subs, withAuth);
}

/** One connection in nats-server's ConnInfo shape, then its protocol's own fields. */
export function renderSnapshot(s: ConnectionSnapshot, now: number, subs: SubsDetail, withAuth: boolean): ConnInfo {
  const info: ConnInfo = {
    cid: s.cid,
    kind: 'Client',
    type: s.type,
    ip: s.ip,
    port: s.port,
    start: new Date(s.startMs).toISOString(),
    last_activity: new Date(s.lastMs).toISOString(),
    rtt: goDuration(Math.max(0, s.rttMs)),
    uptime: compactUptime(now - s.startMs),
    idle: compactUptime(now - s.lastMs),
    pending_bytes: s.pendingBytes,
    in_msgs: s.inMsgs,
    out_msgs: s.outMsgs,
    in_bytes: s.inBytes,
    out_bytes: s.outBytes,
    subscriptions: s.subscriptionCount,
  };
  if (s.name !== undefined) info.name = s.name;
  if (s.lang !== undefined) info.lang = s.lang;
  if (s.version !== undefined) info.version = s.version;
  if (withAuth && s.user !== undefined) info.authorized_user = s.user;
  if (s.tls !== undefined) {
    info.tls_version = s.tls.version;
    info.tls_cipher_suite = s.tls.cipher;
  }
  if (s.mqttClient !== undefined) info.mqtt_client = s.mqttClient;
  if (subs !== 'none' && s.subscriptionCount > 0) {
    const list = s.subscriptions();
    if (subs === 'list') info.subscriptions_list = list.map((sub) => sub.subject);
    else info.subscriptions_list_detail = list.map((sub) => ({ ...sub, cid: s.cid }));
  }
  if (s.details !== undefined) Object.assign(info, s.details);
  return info;
}

const STATES = new Set(['open', 'closed', 'any', 'all']);

export function buildConnz(ctx: MonitorContext, query: URLSearchParams): Connz {
  const state = query.get('state') || 'open';
  if (!STATES.has(state)) throw new MonitorQueryError('state', `Error decoding state for ${state}`);
  const sortName = query.get('sort') || 'cid';
  const sort = SORTS[sortName];
  if (sort === undefined) throw new MonitorQueryError('sort', `invalid sorting option: ${sortName}`);
  if (sort.closedOnly && state !== 'closed') throw new MonitorQueryError('sort', `sort by ${sortName} only valid on closed connections`);
  const subsParam = query.get('subs');
  const subs = subsParam === 'detail' ? 'detail' : subsParam === '1' || subsParam === 'true' ? 'list' : 'none';
  const withAuth = query.get('auth') === '1' || query.get('auth') === 'true';
  const offset = nonNegativeInt(query, 'offset', 0);
  let limit = nonNegativeInt(query, 'limit', DEFAULT_LIMIT);
  if (limit === 0) limit = DEFAULT_LIMIT;
  const now = Date.now();

  let rows: ConnRow[] = [];
  if (state !== 'closed') {
    for (const c of ctx.server.clients.values()) rows.push(connRow(c, now));
    for (const extension of ctx.extensions ?? []) for (const s of extension.connections?.() ?? []) rows.push(snapshotRow(s, now));
  }
  // rows() is already a copy of the closed ring: taken as it is when only closed ones are asked for.
  if (state !== 'open' && ctx.closed !== undefined) rows = rows.length === 0 ? ctx.closed.rows() : rows.concat(ctx.closed.rows());
  const cidParam = query.get('cid');
  if (cidParam !== null && cidParam !== '') {
    const cid = nonNegativeInt(query, 'cid', 0);
    rows = rows.filter((r) => r.cid === cid);
    limit = 1;
  }
  // nats-server's mqtt_client filter: one device by its MQTT client identifier.
  const mqttClient = query.get('mqtt_client');
  if (mqttClient !== null && mqttClient !== '') rows = rows.filter((r) => r.mqttClient === mqttClient);
  const sign = sort.ascending ? 1 : -1;
  const byReason = (a: ConnRow, b: ConnRow): number => (sortName === 'reason' ? (a.reason ?? '').localeCompare(b.reason ?? '') : 0);
  rows.sort((a, b) => byReason(a, b) || sign * (sort.key(a, now) - sort.key(b, now)) || a.cid - b.cid);
  const page = rows.slice(offset, offset + limit);
  return {
    server_id: ctx.server.serverId,
    now: new Date(now).toISOString(),
    num_connections: page.length,
    total: rows.length,
    offset,
    limit,
    connections: page.map((r) => r.render(subs, withAuth)),
  };
}

export function connz(ctx: MonitorContext, query: URLSearchParams): MonitorResponse {
  return json(buildConnz(ctx, query));
}
