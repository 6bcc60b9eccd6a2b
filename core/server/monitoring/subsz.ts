// GET /subsz: subscription index figures; with subs=1 the subscriptions
// themselves (paged), and with test=<subject> only those a message on that
// subject would reach (NS server/monitor.go Subsz).

import { isValidPublishSubject, subjectMatches } from '../../subject/subject.ts';
import { nonNegativeInt, type SubDetail } from './connz.ts';
import { json, MonitorQueryError, type MonitorContext, type MonitorResponse } from './monitor-context.ts';

const DEFAULT_LIMIT = 1024;

export interface SublistFigures {
  num_subscriptions: number;
  num_cache: number;
  num_inserts: number;
  num_removes: number;
  num_matches: number;
  cache_hit_rate: number;
  max_fanout: number;
  avg_fanout: number;
}

export interface Subsz extends SublistFigures {
  server_id?: string;
  now?: string;
  total?: number;
  offset?: number;
  limit?: number;
  subscriptions_list?: SubDetail[];
}

export function sublistFigures(ctx: MonitorContext): SublistFigures {
  const s = ctx.server.router.sublist.stats();
  return {
    num_subscriptions: s.subscriptions,
    num_cache: s.cache,
    num_inserts: s.inserts,
    num_removes: s.removes,
    num_matches: s.matches,
    cache_hit_rate: s.matches === 0 ? 0 : s.cacheHits / s.matches,
    max_fanout: s.maxFanout,
    avg_fanout: s.avgFanout,
  };
}

export function buildSubsz(ctx: MonitorContext, query: URLSearchParams): Subsz {
  const figures = sublistFigures(ctx);
  const test = query.get('test');
  const wantList = query.get('subs') === '1' || query.get('subs') === 'true' || query.get('subs') === 'detail';
  if (test !== null && test !== '' && !isValidPublishSubject(test)) {
    throw new MonitorQueryError('test', `invalid test subject, must be valid publish subject: ${test}`);
  }
  if (!wantList && (test === null || test === '')) return figures;
  const offset = nonNegativeInt(query, 'offset', 0);
  let limit = nonNegativeInt(query, 'limit', DEFAULT_LIMIT);
  if (limit === 0) limit = DEFAULT_LIMIT;
  const all: SubDetail[] = [];
  for (const client of ctx.server.clients.values()) {
    for (const sub of client.subscriptions.values()) {
      if (test && !subjectMatches(sub.subject, test)) continue;
      all.push({ account: '$G', subject: sub.subject, ...(sub.queue === null ? {} : { qgroup: sub.queue }), sid: sub.sid, msgs: sub.delivered, cid: client.id });
    }
  }
  return {
    server_id: ctx.server.serverId,
    now: new Date().toISOString(),
    ...figures,
    total: all.length,
    offset,
    limit,
    subscriptions_list: all.slice(offset, offset + limit),
  };
}

export function subsz(ctx: MonitorContext, query: URLSearchParams): MonitorResponse {
  return json(buildSubsz(ctx, query));
}
