// HTTP request figures for /metrics: requests by route, method and status,
// and a latency histogram per route, recorded by one onResponse hook. Routes
// are fastify's patterns (/v1/subjects/:subject), never raw URLs, so the
// label set stays bounded however many subjects clients use.

import type { FastifyInstance } from 'fastify';
import type { HistogramSample, MetricFamily } from '../descriptor.ts';

/** Seconds; Prometheus client libraries' default buckets. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Requests no route matched (404s for unknown paths) share one label. */
const UNMATCHED = 'unmatched';

class LatencyHistogram {
  private readonly counts = BUCKETS.map(() => 0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    const i = BUCKETS.findIndex((le) => seconds <= le);
    if (i >= 0) this.counts[i]++;
  }

  sample(route: string): HistogramSample {
    let cumulative = 0;
    return { labels: { route }, buckets: BUCKETS.map((le, i) => [le, (cumulative += this.counts[i])] as const), sum: this.sum, count: this.count };
  }
}

export class HttpRequestMetrics {
  private readonly requests = new Map<string, { route: string; method: string; status: string; count: number }>();
  private readonly latency = new Map<string, LatencyHistogram>();

  /** Record every response of `app` (event streams when they end). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      this.record(request.routeOptions.url ?? UNMATCHED, request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  record(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    const entry = this.requests.get(key);
    if (entry === undefined) this.requests.set(key, { route, method, status: String(status), count: 1 });
    else entry.count++;
    let histogram = this.latency.get(route);
    if (histogram === undefined) this.latency.set(route, (histogram = new LatencyHistogram()));
    histogram.observe(seconds);
  }

  families(): MetricFamily[] {
    return [
      {
        name: 'switchboard_http_requests_total',
        type: 'counter',
        help: 'HTTP gateway requests by route, method and status',
        samples: [...this.requests.values()].map((r) => ({ labels: { route: r.route, method: r.method, status: r.status }, value: r.count })),
      },
      {
        name: 'switchboard_http_request_duration_seconds',
        type: 'histogram',
        help: 'HTTP gateway request latency by route, seconds (an event stream counts its lifetime when it ends)',
        samples: [...this.latency].map(([route, histogram]) => histogram.sample(route)),
      },
    ];
  }
}
