// GET /healthz: {"status":"ok"} while the NATS listener is up; 503 with an
// error otherwise (nats-server answers 503 "unavailable" when not ready).

import type { MonitorContext, MonitorResponse } from './monitor-context.ts';

export function healthz(ctx: MonitorContext): MonitorResponse {
  if (ctx.server.port > 0) return { status: 200, contentType: 'application/json', body: '{"status":"ok"}' };
  return { status: 503, contentType: 'application/json', body: JSON.stringify({ status: 'unavailable', error: 'NATS listener is not accepting connections' }) };
}
