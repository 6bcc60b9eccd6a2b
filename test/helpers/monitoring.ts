// Monitoring helpers: Switchboard with its monitor on a free port, and a JSON
// "shape" (field names and JSON types) to compare with nats-server's answers.

import { createCore } from '../../core/create-core.ts';
import type { MonitorServer } from '../../core/server/monitoring/monitor-server.ts';
import type { NatsServer } from '../../core/server/nats-server.ts';
import type { RunningServer } from './servers.ts';

export interface MonitoredServer extends RunningServer {
  readonly monitorPort: number;
}

export async function startMonitoredSwitchboard(): Promise<MonitoredServer & { server: NatsServer; monitor: MonitorServer }> {
  const core = createCore({ server: { host: '127.0.0.1', port: 0 }, monitor: { host: '127.0.0.1', port: 0, maxClosed: 100 } });
  await core.start();
  const monitor = core.monitor as MonitorServer;
  return {
    name: 'switchboard',
    server: core.nats,
    port: core.nats.port,
    url: `nats://127.0.0.1:${core.nats.port}`,
    monitor,
    monitorPort: monitor.port,
    stop: () => core.stop(),
  };
}

export async function getJson(port: number, path: string): Promise<{ status: number; body: unknown; text: string; contentType: string | null }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, contentType: response.headers.get('content-type') };
}

export type Shape = string | Shape[] | { [key: string]: Shape };

/**
 * Field names and JSON types, recursively; an array by the union of its
 * elements' shapes (nats-server lists come in map order); `opaque` keys by type only.
 */
export function shape(value: unknown, opaque: ReadonlySet<string> = new Set()): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [value.map((v) => shape(v, opaque)).reduce(mergeShapes)];
  if (typeof value === 'object') {
    const out: { [key: string]: Shape } = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = opaque.has(k) ? 'object' : shape(v, opaque);
    return out;
  }
  return typeof value;
}

function mergeShapes(a: Shape, b: Shape): Shape {
  if (typeof a === 'object' && !Array.isArray(a) && typeof b === 'object' && !Array.isArray(b)) {
    const out: { [key: string]: Shape } = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeShapes(out[k], v) : v;
    return out;
  }
  return a;
}
