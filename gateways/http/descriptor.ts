// The HTTP/REST gateway in the registry: the `http_gateway` section (enabled,
// host, port, tls: HTTPS, cors: browsers on other origins, sessions: browser
// login lifetime), --http_gateway_port, default port 8080. It also serves every
// monitor extension of the process behind its auth (/v1/monitor/<name>,
// /metrics): in cluster mode there is no monitoring port.

import type { Descriptor, DescriptorContext } from '../descriptor.ts';
import { listenerComponent, listenerSection, listenerSettings, sectionKeys, sectionTls, tlsErrorLogger, tlsHelp, type ListenerSection } from '../listener-section.ts';
import { ConfigError } from '../../core/config/config-error.ts';
import { parseDurationMs } from '../../core/config/duration.ts';
import { isObject } from '../../core/config/setting-values.ts';
import { parseCorsPolicy, type CorsPolicy } from './cors-policy.ts';
import { createHttpGateway, DEFAULT_HTTP_PORT } from './http-gateway.ts';
import type { SessionOptions } from './session-store.ts';
import type { MonitoringMount } from './routes/monitoring.ts';

/**
 * The gateway's monitoring mount, read per request; nothing is mounted while there
 * is nothing to serve. With the core's monitor, every endpoint it answers (nats-server's
 * JSON ones, the core's own extensions such as /leafz, and those the composition root
 * extends into it) and /metrics, served again under /v1 where a browser's session
 * cookie (Path=/v1) reaches it; without one (cluster mode), the extensions' endpoints
 * and series alone.
 */
function monitoringOf(context: DescriptorContext): MonitoringMount {
  const core = context.coreMonitor;
  if (core !== undefined) {
    return {
      get endpoints() {
        return Object.fromEntries(core.endpointNames.map((name) => [name, (query: URLSearchParams) => core.respond(`/${name}`, query)]));
      },
      metrics: () => core.respond('/metrics', new URLSearchParams()).body,
      connections: core,
    };
  }
  return {
    get endpoints() {
      const list = context.monitorExtensions().filter((extension) => extension.path !== undefined);
      return list.length === 0 ? undefined : Object.fromEntries(list.map((extension) => [extension.path?.slice(1), () => extension.json?.()]));
    },
    get metrics() {
      return context.monitorExtensions().some((extension) => extension.metrics !== undefined) ? () => context.extensionMetricsText() : undefined;
    },
  };
}

export interface HttpGatewaySection extends ListenerSection {
  cors?: CorsPolicy;
  sessions?: SessionOptions;
}

/** `sessions { max_age: "1h" }`: how long a browser login lasts. */
function parseSessions(value: unknown, key: string): SessionOptions {
  if (!isObject(value)) throw new ConfigError(key, 'must be { max_age }');
  for (const name of Object.keys(value)) if (name !== 'max_age') throw new ConfigError(`${key}.${name}`, 'unknown key (expected max_age)');
  if (value.max_age === undefined) return {};
  const ttlMs = parseDurationMs(value.max_age, `${key}.max_age`);
  if (ttlMs < 1_000) throw new ConfigError(`${key}.max_age`, 'must be at least 1s');
  return { ttlMs };
}

function parseSection(raw: unknown, defaultHost: string): HttpGatewaySection {
  const wire = sectionKeys(raw, 'http_gateway', ['cors', 'sessions']);
  const section: HttpGatewaySection = listenerSection(wire, 'http_gateway', DEFAULT_HTTP_PORT, defaultHost);
  if (wire.cors !== undefined) section.cors = parseCorsPolicy(wire.cors, 'http_gateway.cors');
  if (wire.sessions !== undefined) section.sessions = parseSessions(wire.sessions, 'http_gateway.sessions');
  return section;
}

export const httpDescriptor: Descriptor<HttpGatewaySection, 'http_gateway'> = {
  name: 'http_gateway',
  kind: 'gateway',
  label: 'HTTP gateway',
  defaultPort: DEFAULT_HTTP_PORT,
  ...listenerSettings('http_gateway'),
  help: '      --http_gateway_port <port>  HTTP/REST gateway (default 8080)\n' + tlsHelp('http_gateway'),
  parse: parseSection,
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
      monitoring: monitoringOf(context),
      ...(section.cors === undefined ? {} : { cors: section.cors }),
      ...(section.sessions === undefined ? {} : { sessions: section.sessions }),
    });
    return listenerComponent(section, gateway, { monitor: gateway.monitor });
  },
};
