// The HTTP/REST gateway in the registry: the `http_gateway` section (enabled,
// host, port, tls: HTTPS), --http_gateway_port, default port 8080. It also serves every
// monitor extension of the process behind its auth (/v1/monitor/<name>,
// /metrics): in cluster mode there is no monitoring port.

import type { Descriptor, MonitorExtension } from '../descriptor.ts';
import { listenerComponent, listenerSection, listenerSettings, sectionKeys, sectionTls, tlsErrorLogger, tlsHelp, type ListenerSection } from '../listener-section.ts';
import { createHttpGateway, DEFAULT_HTTP_PORT } from './http-gateway.ts';
import type { MonitoringMount } from './routes/monitoring.ts';

/** The extensions as the gateway's monitoring mount, read per request; nothing is mounted while there are none. */
function monitoringOf(extensions: () => readonly MonitorExtension[], metricsText: () => string): MonitoringMount {
  return {
    get endpoints() {
      const list = extensions().filter((extension) => extension.path !== undefined);
      return list.length === 0 ? undefined : Object.fromEntries(list.map((extension) => [extension.path?.slice(1), () => extension.json?.()]));
    },
    get metrics() {
      return extensions().some((extension) => extension.metrics !== undefined) ? metricsText : undefined;
    },
  };
}

export const httpDescriptor: Descriptor<ListenerSection, 'http_gateway'> = {
  name: 'http_gateway',
  kind: 'gateway',
  label: 'HTTP gateway',
  defaultPort: DEFAULT_HTTP_PORT,
  ...listenerSettings('http_gateway'),
  help: '      --http_gateway_port <port>  HTTP/REST gateway (default 8080)\n' + tlsHelp('http_gateway'),
  parse: (raw, defaultHost) => listenerSection(sectionKeys(raw, 'http_gateway'), 'http_gateway', DEFAULT_HTTP_PORT, defaultHost),
  create(section, context) {
    if (!section.enabled) return null;
    const gateway = createHttpGateway({
      broker: context.broker,
      authorizer: context.authorizer,
      host: section.host,
      port: section.port,
      tls: sectionTls(section, 'http_gateway'),
      onTlsError: tlsErrorLogger(context.logger, 'HTTP gateway'),
      maxPayload: context.maxPayload,
      connectionIds: context.connectionIds,
      log: context.logger,
      monitoring: monitoringOf(() => context.monitorExtensions(), () => context.extensionMetricsText()),
    });
    return listenerComponent(section, gateway, { monitor: gateway.monitor });
  },
};
