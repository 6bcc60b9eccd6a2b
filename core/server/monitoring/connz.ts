// GET /connz: open client connections with paging (offset, limit), sort,
// subs=1 (subjects) or subs=detail, cid=<n> and auth=1, with nats-server's
// field names (NS server/monitor.go ConnInfo) and its 400 texts for bad queries.

import type { NatsClient } from '../nats-client.ts';
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
  type: 'nats';
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
  /** Closed connections: when and why. */
  stop?: string;
  reason?: string;
  subscriptions_list?: string[];
  subscriptions_list_detail?: SubDetail[];
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

/** The sort fields of an open connection, read now; its ConnInfo is built on render. */
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
    render: (subs, withAuth) => connInfo(client, now, subs, withAuth),
  };
}

export function connInfo(client: NatsClient, now: number, subs: SubsDetail, withAuth: boolean): ConnInfo {
  const o = client.options;
  const info: ConnInfo = {
    cid: client.id,
    kind: 'Client',
    type: 'nats',
    ip: client.connection.remoteAddress,
    port: client.connection.remotePort,
    start: client.startedAt.toISOString(),
    last_activity: new Date(client.lastActivity).toISOString(),
    rtt: goDuration(Math.max(0, client.rttMs)),
    uptime: compactUptime(now - client.startedAt.getTime()),
    idle: compactUptime(now - client.lastActivity),
    pending_bytes: client.pendingBytes,
    in_msgs: client.stats.inMsgs,
    out_msgs: client.stats.outMsgs,
    in_bytes: client.stats.inBytes,
    out_bytes: client.stats.outBytes,
    subscriptions: client.subscriptions.size,
  };
  if (o.name) info.name = o.name;
  if (o.lang) info.lang = o.lang;
  if (o.version) info.version = o.version;
  if (withAuth && client.principal.name !== 'anonymous') info.authorized_user = client.principal.name;
  if (subs === 'list' && client.subscriptions.size > 0) info.subscriptions_list = [...client.subscriptions.values()].map((s) => s.subject);
  if (subs === 'detail' && client.subscriptions.size > 0) {
    info.subscriptions_list_detail = [...client.subscriptions.values()].map((s) => ({
      subject: s.subject,
      ...(s.queue === null ? {} : { qgroup: s.queue }),
      sid: s.sid,
      msgs: s.delivered,
      cid: client.id,
    }));
  }
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
  if (state !== 'closed') for (const c of ctx.server.clients.values()) rows.push(connRow(c, now));
  // rows() is already a copy of the closed ring: taken as it is when only closed ones are asked for.
  if (state !== 'open' && ctx.closed !== undefined) rows = rows.length === 0 ? ctx.closed.rows() : rows.concat(ctx.closed.rows());
  const cidParam = query.get('cid');
  if (cidParam !== null && cidParam !== '') {
    const cid = nonNegativeInt(query, 'cid', 0);
    rows = rows.filter((r) => r.cid === cid);
    limit = 1;
  }
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
