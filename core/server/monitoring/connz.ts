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

type SortKey = (c: NatsClient, now: number) => number;

/** nats-server's sort options: cid and start ascending, the rest largest first. */
const SORTS: Record<string, { key: SortKey; ascending: boolean }> = {
  cid: { key: (c) => c.id, ascending: true },
  start: { key: (c) => c.startedAt.getTime(), ascending: true },
  subs: { key: (c) => c.subscriptions.size, ascending: false },
  pending: { key: (c) => c.pendingBytes, ascending: false },
  msgs_to: { key: (c) => c.stats.outMsgs, ascending: false },
  msgs_from: { key: (c) => c.stats.inMsgs, ascending: false },
  bytes_to: { key: (c) => c.stats.outBytes, ascending: false },
  bytes_from: { key: (c) => c.stats.inBytes, ascending: false },
  last: { key: (c) => c.lastActivity, ascending: false },
  idle: { key: (c, now) => now - c.lastActivity, ascending: false },
  uptime: { key: (c, now) => now - c.startedAt.getTime(), ascending: false },
  rtt: { key: (c) => c.rttMs, ascending: false },
};

export function nonNegativeInt(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new MonitorQueryError(name, `invalid ${name}: ${raw}`);
  return value;
}

export function connInfo(client: NatsClient, now: number, subs: 'none' | 'list' | 'detail', withAuth: boolean): ConnInfo {
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

export function buildConnz(ctx: MonitorContext, query: URLSearchParams): Connz {
  const sortName = query.get('sort') || 'cid';
  if (sortName === 'stop' || sortName === 'reason') throw new MonitorQueryError('sort', `sort by ${sortName} only valid on closed connections`);
  const sort = SORTS[sortName];
  if (sort === undefined) throw new MonitorQueryError('sort', `invalid sorting option: ${sortName}`);
  const state = query.get('state');
  if (state !== null && state !== '' && state !== 'open' && state !== 'any') throw new MonitorQueryError('state', `invalid connection state: ${state} (closed connections are not kept)`);
  const subsParam = query.get('subs');
  const subs = subsParam === 'detail' ? 'detail' : subsParam === '1' || subsParam === 'true' ? 'list' : 'none';
  const withAuth = query.get('auth') === '1' || query.get('auth') === 'true';
  const offset = nonNegativeInt(query, 'offset', 0);
  let limit = nonNegativeInt(query, 'limit', DEFAULT_LIMIT);
  if (limit === 0) limit = DEFAULT_LIMIT;
  const now = Date.now();

  let clients = [...ctx.server.clients.values()];
  const cidParam = query.get('cid');
  if (cidParam !== null && cidParam !== '') {
    const cid = nonNegativeInt(query, 'cid', 0);
    clients = clients.filter((c) => c.id === cid);
    limit = 1;
  }
  const sign = sort.ascending ? 1 : -1;
  clients.sort((a, b) => sign * (sort.key(a, now) - sort.key(b, now)) || a.id - b.id);
  const page = clients.slice(offset, offset + limit);
  return {
    server_id: ctx.server.serverId,
    now: new Date(now).toISOString(),
    num_connections: page.length,
    total: clients.length,
    offset,
    limit,
    connections: page.map((c) => connInfo(c, now, subs, withAuth)),
  };
}

export function connz(ctx: MonitorContext, query: URLSearchParams): MonitorResponse {
  return json(buildConnz(ctx, query));
}
