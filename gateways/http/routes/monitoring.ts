// Monitoring pass-through. The core's monitoring data (varz, connz, jsz, healthz,
// metrics) is produced elsewhere; whoever composes the process mounts it here
// with `monitoring: { varz: () => ..., ... }`, and the gateway only serves it.
//   GET /healthz                         liveness for load balancers (public)
//   GET /v1/monitor/http                 this gateway's own counters
//   GET /v1/monitor/{endpoint}           a mounted provider (varz, connz, jsz, leafz, ...)
//   GET /metrics                         Prometheus text, when a `metrics` provider is mounted
// The last two are served only while something is mounted (route config
// `served`): otherwise they are absent, from the router's answers and from
// the OpenAPI document alike.

import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { HttpProblem } from '../errors.ts';
import type { RouteDocSchema } from '../openapi.ts';
import type { ServedRouteConfig } from '../route-table.ts';

/**
 * A ready HTTP answer, passed through unchanged: the core's monitoring endpoints
 * produce these (nats-server's exact JSON text, its 400s for bad queries).
 */
export interface RawMonitorResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * A provider answers a query (e.g. `?subs=1`) with a RawMonitorResponse, or with
 * any JSON-serialisable value (served as 200 application/json).
 */
export type MonitoringProvider = (query: URLSearchParams) => RawMonitorResponse | unknown | Promise<RawMonitorResponse | unknown>;

function isRawResponse(value: unknown): value is RawMonitorResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.status === 'number' && typeof v.contentType === 'string' && typeof v.body === 'string' && Object.keys(v).length === 3;
}

function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

/** Who can close connections, and how (the core's MonitorServer; DELETE /v1/connections/{cid} in connections.ts). */
export interface ConnectionControl {
  /** Publish permission on this subject allows a disconnect. */
  readonly kickSubject: string;
  /** Close connection `cid`; false when no part of the process has it. */
  disconnect(cid: number): boolean;
}

export interface MonitoringMount {
  /** JSON endpoints by name: varz, connz, jsz, healthz, ... */
  endpoints?: Record<string, MonitoringProvider>;
  /** Prometheus text exposition for GET /metrics. */
  metrics?: () => string | Promise<string>;
  /** Closing connections (DELETE /v1/connections/{cid}, routes/connections.ts): the core's registry. */
  connections?: ConnectionControl;
  /** Health for GET /healthz; the default says ok while the gateway runs. */
  health?: () => { status: string; [key: string]: unknown } | Promise<{ status: string; [key: string]: unknown }>;
}

const healthSchema: RouteDocSchema = {
  operationId: 'healthz',
  summary: 'Health check',
  tags: ['monitoring'],
  public: true,
  response: {
    200: { description: 'Healthy', type: 'object', required: ['status'], properties: { status: { type: 'string' } }, additionalProperties: true },
  },
};

const gatewayStatsSchema: RouteDocSchema = {
  operationId: 'httpGatewayStats',
  summary: "The HTTP gateway's own counters",
  tags: ['monitoring'],
  response: {
    200: {
      description: 'Counters since start',
      type: 'object',
      properties: {
        published: { type: 'integer' },
        requests: { type: 'integer' },
        errors: { type: 'integer' },
        active_streams: { type: 'integer' },
        slow_consumers: { type: 'integer' },
        events_sent: { type: 'integer' },
      },
    },
  },
};

const endpointSchema: RouteDocSchema = {
  operationId: 'monitorEndpoint',
  summary: 'Core monitoring data (varz, connz, jsz, healthz, leafz, kafkaz, ...) when mounted',
  tags: ['monitoring'],
  params: { type: 'object', required: ['endpoint'], properties: { endpoint: { type: 'string', pattern: '^[a-z]+$' } } },
  response: { 200: { description: 'The endpoint data', type: 'object', additionalProperties: true } },
};

const metricsSchema: RouteDocSchema = {
  operationId: 'metrics',
  summary: 'Prometheus metrics when mounted',
  tags: ['monitoring'],
  response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
};

export async function monitoringRoutes(app: FastifyInstance, options: { ctx: GatewayContext; mount: MonitoringMount }): Promise<void> {
  const { ctx, mount } = options;
  app.get('/healthz', { schema: healthSchema }, async () => (mount.health === undefined ? { status: 'ok' } : mount.health()));

  app.register(async (secured) => {
    secured.addHook('onRequest', async (request) => {
      request.principal = await ctx.auth.authenticate(request);
    });
    secured.get('/v1/monitor/http', { schema: gatewayStatsSchema }, async () => ({
      published: ctx.stats.published,
      requests: ctx.stats.requests,
      errors: ctx.stats.errors,
      active_streams: ctx.stats.activeStreams,
      slow_consumers: ctx.stats.slowConsumers,
      events_sent: ctx.stats.eventsSent,
    }));
    const endpointsMounted: ServedRouteConfig = { served: () => mount.endpoints !== undefined };
    secured.get('/v1/monitor/:endpoint', { schema: endpointSchema, config: endpointsMounted }, async (request, reply) => {
      const { endpoint } = request.params as { endpoint: string };
      const provider = mount.endpoints?.[endpoint];
      if (provider === undefined) {
        throw new HttpProblem('endpoint_not_found', `no monitoring endpoint ${JSON.stringify(endpoint)}; mounted: ${Object.keys(mount.endpoints ?? {}).join(', ')}`, { endpoint });
      }
      const answer = await provider(queryOf(request.url));
      if (isRawResponse(answer)) return reply.code(answer.status).type(answer.contentType).send(answer.body);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer));
    });
    secured.get('/metrics', { schema: metricsSchema, config: { served: () => mount.metrics !== undefined } satisfies ServedRouteConfig }, async (_request, reply) => {
      const metrics = mount.metrics;
      if (metrics === undefined) return reply.callNotFound(); // unmounted since the served check
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics());
    });
  });
}
