// Builds what the registry lists on one Broker and starts/stops it in order.
// Default ports are best effort (a taken one is logged and skipped, as with
// monitoring); a port the operator asked for must bind.

import { connectionIdCounter } from '../core/connection/connection-ids.ts';
import { prometheusText } from '../core/server/monitoring/prometheus-text.ts';
import type { MonitorExtension } from '../core/server/monitoring/monitor-context.ts';
import type { AcceptConnection, Component, ConnectionIds, DescriptorContext } from './descriptor.ts';
import { REGISTRY, type GatewaySections } from './registry.ts';

export type GatewayDeps = Omit<DescriptorContext, 'acceptor' | 'monitorExtensions' | 'extensionMetricsText' | 'connectionIds'> & {
  /** Default: a counter of the gateways' own (cluster mode has no NATS server to share one with). */
  readonly connectionIds?: ConnectionIds;
};

export interface Gateways {
  /** The built gateways and connectors by registry name; a configured-off one is absent. */
  readonly components: ReadonlyMap<string, Component>;
  /** What they add to the core's monitor (the Kafka bridge's /kafkaz); the HTTP gateway serves them too. */
  readonly monitorExtensions: readonly MonitorExtension[];
  start(): Promise<void>;
  /** Every started component's lame duck at once (those without one wait for stop()). */
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  stop(): Promise<void>;
}

function addressInUse(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
  }
  return false;
}

export function createGateways(sections: GatewaySections, deps: GatewayDeps): Gateways {
  const { logger } = deps;
  const components = new Map<string, Component>();
  const labels = new Map<Component, string>();
  const monitorExtensions: MonitorExtension[] = [];
  const context: DescriptorContext = {
    ...deps,
    connectionIds: deps.connectionIds ?? connectionIdCounter(),
    acceptor: (name): AcceptConnection | undefined => components.get(name)?.accept,
    monitorExtensions: () => monitorExtensions,
    extensionMetricsText: () => prometheusText(monitorExtensions.flatMap((extension) => [...(extension.metrics?.() ?? [])])),
  };
  for (const descriptor of REGISTRY) {
    // Each descriptor gets the section its own parse() returned.
    const component = (descriptor.create as (section: unknown, context: DescriptorContext) => Component | null)(sections[descriptor.name], context);
    if (component === null) continue;
    components.set(descriptor.name, component);
    labels.set(component, descriptor.label);
    if (component.monitor !== undefined) monitorExtensions.push(component.monitor);
  }
  const started: Component[] = [];

  async function startOne(component: Component): Promise<void> {
    const label = labels.get(component);
    const listener = component.listener;
    try {
      await component.start();
    } catch (error) {
      if (listener === undefined || listener.required || !addressInUse(error)) throw error;
      logger.warn({ host: listener.host, port: listener.port }, `default ${label} port in use: running without it (set its port to require one)`);
      return;
    }
    started.push(component);
    if (listener !== undefined) logger.info({ host: listener.host, port: listener.boundPort() }, `${label} listening on ${listener.host}:${listener.boundPort()}`);
  }

  return {
    components,
    monitorExtensions,
    async start() {
      for (const component of components.values()) await startOne(component);
    },
    async lameDuck(durationMs, graceMs) {
      await Promise.all(started.map((component) => component.lameDuck?.(durationMs, graceMs)));
    },
    async stop() {
      for (const component of started.reverse()) {
        try {
          await component.stop();
        } catch (error) {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'gateway stop failed');
        }
      }
      started.length = 0;
    },
  };
}
