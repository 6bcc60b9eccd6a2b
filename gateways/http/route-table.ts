// The routes this gateway serves, as one table that the OpenAPI document, the
// 405 answer (its Allow header) and the tests all read, so none of them can
// disagree with the router. A route may be registered but served only while a
// condition holds (`config.served`, e.g. /metrics while a metrics provider is
// mounted): while it does not, it answers as if it were not there (404) and the
// document leaves it out.

import type { FastifyInstance, RouteOptions } from 'fastify';
import type { RouteDocSchema } from './openapi.ts';

export interface RecordedRoute {
  method: string;
  url: string;
  schema: RouteDocSchema | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served only while this says true (default: always). */
    served?: () => boolean;
  }
}

/** Route `config` keys this table reads. */
export type ServedRouteConfig = Pick<import('fastify').FastifyContextConfig, 'served'>;

interface TableEntry extends RecordedRoute {
  readonly served: () => boolean;
  /** The url as a regular expression over a request path (params are one segment). */
  readonly pattern: RegExp;
}

const always = (): boolean => true;

function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

export class RouteTable {
  private readonly entries: TableEntry[] = [];

  /** Record every route added to `app` from now on (call before registering routes). */
  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const served = (route.config as ServedRouteConfig | undefined)?.served ?? always;
      for (const method of methods) {
        this.entries.push({ method: method.toUpperCase(), url: route.url, schema: route.schema as RouteDocSchema | undefined, served, pattern: patternOf(route.url) });
      }
    });
  }

  /** The routes served now (HEAD and CORS preflight included). */
  get routes(): RecordedRoute[] {
    return this.entries.filter((entry) => entry.served()).map(({ method, url, schema }) => ({ method, url, schema }));
  }

  /** Methods served now on a request path (no query), sorted; empty when no route matches it. */
  methodsAt(path: string): string[] {
    const methods = new Set<string>();
    for (const entry of this.entries) if (entry.url !== '*' && entry.pattern.test(path) && entry.served()) methods.add(entry.method);
    return [...methods].sort();
  }
}
