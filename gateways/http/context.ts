// What every route group gets from the gateway: the Broker port, the
// authenticator, limits and counters. Route groups never see the fastify root
// options or each other.

import type { Broker } from '../../core/broker/broker.ts';
import type { HttpAuthenticator } from './auth.ts';
import type { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import type { StreamPublisher } from '../../core/jetstream-client/stream-publisher.ts';
import type { EventStreamSet, StreamCounters } from './event-stream.ts';
import type { HttpRequestMetrics } from './http-metrics.ts';

export interface GatewayStats extends StreamCounters {
  published: number;
  /** Payload bytes of those publishes. */
  publishedBytes: number;
  requests: number;
  /** Requests answered with a problem document (any 4xx/5xx). */
  errors: number;
}

export interface GatewayContext {
  readonly broker: Broker;
  readonly auth: HttpAuthenticator;
  readonly jetstream: JetStreamClient;
  /** Publishes to stream subjects as JetStream publishes; its index says which subjects those are. */
  readonly streams: StreamPublisher;
  readonly maxPayload: number;
  readonly heartbeatMs: number;
  readonly maxPendingBytes: number;
  readonly maxStreams: number;
  readonly maxRequestTimeoutMs: number;
  readonly defaultRequestTimeoutMs: number;
  readonly stats: GatewayStats;
  /** Requests by route and status, and their latency (/metrics). */
  readonly requestMetrics: HttpRequestMetrics;
  /** Every event stream open now (/connz; ended together on shutdown and lame duck). */
  readonly openStreams: EventStreamSet;
  /** Event streams opened and closed, at debug (the server's -D). */
  readonly log?: { debug(fields: object, message: string): void };
  /** Connection ids for /connz, shared with the rest of the process. */
  readonly connectionIds: () => number;
}
