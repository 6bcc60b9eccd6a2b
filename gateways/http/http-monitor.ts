// What the HTTP gateway adds to the core's monitor: each open event stream
// (SSE or NDJSON subscription, stream read, KV watch) in /connz as type
// http-stream with its route, the /varz `http_gateway` section, and its
// /metrics series (requests, latency, messages in and out).

import type { ConnectionSnapshot, MonitorExtension } from '../descriptor.ts';
import { redactUrl } from './auth.ts';
import type { GatewayContext } from './context.ts';
import type { EventStream } from './event-stream.ts';

function snapshot(stream: EventStream): ConnectionSnapshot {
  const { request, figures } = stream;
  const params = (request.params ?? {}) as Record<string, string>;
  // A subject subscription is the one stream that is a subscription in the NATS sense.
  const subject = request.routeOptions.url === '/v1/subjects/:subject' ? params.subject : undefined;
  const user = request.principal?.name;
  return {
    cid: stream.options.cid ?? 0,
    type: 'http-stream',
    ip: request.socket.remoteAddress ?? '',
    port: request.socket.remotePort ?? 0,
    startMs: figures.startedAt,
    lastMs: figures.lastWriteAt,
    rttMs: -1,
    pendingBytes: request.raw.socket?.writableLength ?? 0,
    inMsgs: 0,
    inBytes: 0,
    outMsgs: figures.events,
    outBytes: figures.bytes,
    subscriptionCount: subject === undefined ? 0 : 1,
    subscriptions: () => (subject === undefined ? [] : [{ subject, sid: '1', msgs: figures.events }]),
    user: user === undefined || user === 'anonymous' ? undefined : user,
    details: {
      http: {
        method: request.method,
        route: request.routeOptions.url,
        url: redactUrl(request.url),
        format: stream.options.format,
        stream: params,
      },
    },
  };
}

/** `port()`: the bound port (negative before start). */
export function httpMonitor(ctx: GatewayContext, host: string, port: () => number): MonitorExtension {
  const { stats } = ctx;
  return {
    metrics: () => ctx.requestMetrics.families(),
    traffic: () => ({
      protocol: 'http',
      msgsIn: stats.published,
      bytesIn: stats.publishedBytes,
      msgsOut: stats.eventsSent,
      bytesOut: stats.streamBytes,
      dropped: { slow_consumer: stats.slowConsumers },
    }),
    *connections() {
      for (const stream of ctx.openStreams) yield snapshot(stream);
    },
    disconnect(cid) {
      for (const stream of ctx.openStreams) {
        if (stream.options.cid !== cid) continue;
        stream.end('disconnected by an operator');
        return true;
      }
      return false;
    },
    varz: {
      key: 'http_gateway',
      value: () => ({
        host,
        port: Math.max(0, port()),
        max_payload: ctx.maxPayload,
        max_streams: ctx.maxStreams,
        requests: ctx.stats.requests,
        published: ctx.stats.published,
        errors: ctx.stats.errors,
        active_streams: ctx.stats.activeStreams,
        events_sent: ctx.stats.eventsSent,
        slow_consumers: ctx.stats.slowConsumers,
      }),
    },
  };
}
