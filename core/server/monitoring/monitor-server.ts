// The monitoring HTTP listener (nats-server's -m/--http_port; default
// 127.0.0.1:8222): one small handler per endpoint, plain node:http, GET only.
// Built separately from listening: `new MonitorServer(server, options)`, then
// start(); stop() releases the port.

import { type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { httpServerFactory, replaceServerTls, type TlsServerOptions } from '../../connection/tls-material.ts';
import { CloseReason } from '../close-reason.ts';
import type { NatsServer } from '../nats-server.ts';
import type { ClosedConnections } from './closed-connections.ts';
import { connz } from './connz.ts';
import { healthz } from './healthz.ts';
import { jsz, type JetStreamFigures } from './jsz.ts';
import { metrics } from './metrics.ts';
import { cpuSampler, json, MonitorQueryError, type MonitorContext, type MonitorExtension, type MonitorResponse } from './monitor-context.ts';
import { subsz } from './subsz.ts';
import { varz } from './varz.ts';

export interface MonitorOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** TLS on the NATS listener, reported in varz. */
  tls?: { verify: boolean };
  /** Serve HTTPS with this material (nats-server's https_port); client certificates are not asked for, as there. */
  https?: TlsServerOptions;
  /** Closed-connection records; the same object must be the NatsServer's observer. */
  closed?: ClosedConnections;
  /** Reports JetStream figures when an engine is attached (the composition root wires it). */
  jetstream?: () => JetStreamFigures;
  /** Further endpoints and /metrics series (e.g. the Kafka bridge's /kafkaz). */
  extensions?: readonly MonitorExtension[];
}

type Endpoint = (ctx: MonitorContext, query: URLSearchParams) => MonitorResponse;

const ENDPOINTS: Record<string, Endpoint> = {
  '/varz': varz,
  '/connz': connz,
  '/subsz': subsz,
  '/subscriptionsz': subsz,
  '/healthz': healthz,
  '/jsz': jsz,
  '/metrics': metrics,
};

function indexPage(paths: readonly string[]): string {
  return `<html><body><h1>Switchboard monitoring</h1><ul>${paths.map((p) => `<li><a href=".${p}">${p}</a></li>`).join('')}</ul></body></html>\n`;
}

export class MonitorServer {
  private http: HttpServer | null = null;
  private boundPort = 0;
  private readonly requestStats: Record<string, number> = {};
  private readonly cpuPercent = cpuSampler();
  private readonly endpoints: Record<string, Endpoint>;
  private readonly extensions: MonitorExtension[] = [];
  private index = indexPage(Object.keys(ENDPOINTS));

  constructor(readonly server: NatsServer, readonly options: MonitorOptions) {
    this.endpoints = { ...ENDPOINTS };
    for (const extension of options.extensions ?? []) this.extend(extension);
  }

  /**
   * Serve one more extension. The composition root builds the core (and this
   * monitor) before the connectors whose figures it adds, so extensions may
   * come after construction, before start().
   */
  extend(extension: MonitorExtension): void {
    const { path } = extension;
    if (path !== undefined) {
      if (this.endpoints[path] !== undefined) throw new TypeError(`monitoring endpoint ${path} is already taken`);
      this.endpoints[path] = (_ctx, query) => json(extension.json?.(query));
    }
    this.extensions.push(extension);
    this.index = indexPage(Object.keys(this.endpoints));
  }

  /** HTTPS monitoring (https_port): the reloaded certificate of the top-level tls block. */
  replaceTls(material: TlsServerOptions): void {
    replaceServerTls(this.http, material);
  }

  get port(): number {
    return this.boundPort;
  }

  /** What respond() answers, without the slash (varz, connz, ..., and the extensions' leafz, kafkaz). */
  get endpointNames(): string[] {
    return Object.keys(this.endpoints).map((path) => path.slice(1));
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    const https = this.options.https;
    // nats-server: verify and verify_and_map do not apply to monitoring, so a browser can read it.
    const http = httpServerFactory(https === undefined ? undefined : { ...https, requestCert: false, rejectUnauthorized: false })(handler);
    http.keepAliveTimeout = 5_000;
    this.http = http;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port, this.options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const address = http.address();
    this.boundPort = typeof address === 'object' && address !== null ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    const http = this.http;
    this.http = null;
    if (http === null) return;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
  }

  /**
   * The subject whose publish permission lets a user close connections: the
   * one nats-server's KICK request is sent to, so a rule written for a NATS
   * client (`$SYS.REQ.SERVER.*.KICK`) means the same here.
   */
  get kickSubject(): string {
    return `$SYS.REQ.SERVER.${this.server.serverId}.KICK`;
  }

  /**
   * Close connection `cid` whichever part of the process holds it (a NATS
   * client, or an extension's: MQTT, HTTP stream), as nats-server's KICK does.
   * False when none has it (already gone, or one that cannot be closed).
   */
  disconnect(cid: number): boolean {
    const client = this.server.clients.get(cid);
    if (client !== undefined) {
      client.close(CloseReason.Kicked);
      return true;
    }
    return this.extensions.some((extension) => extension.disconnect?.(cid) === true);
  }

  /** Answer one request without a socket (tests and the HTTP gateway may reuse it). */
  respond(path: string, query: URLSearchParams): MonitorResponse {
    const endpoint = this.endpoints[path];
    if (path === '/' || path === '') return { status: 200, contentType: 'text/html; charset=utf-8', body: this.index };
    if (endpoint === undefined) return { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found\n' };
    this.requestStats[path] = (this.requestStats[path] ?? 0) + 1;
    const ctx: MonitorContext = {
      server: this.server,
      httpHost: this.options.host,
      httpPort: this.options.https === undefined ? this.boundPort : 0,
      httpsPort: this.options.https === undefined ? 0 : this.boundPort,
      requestStats: this.requestStats,
      tls: this.options.tls,
      cpuPercent: this.cpuPercent,
      jetstream: this.options.jetstream,
      closed: this.options.closed,
      extensions: this.extensions,
    };
    try {
      return endpoint(ctx, query);
    } catch (error) {
      if (error instanceof MonitorQueryError) return { status: 400, contentType: 'text/plain; charset=utf-8', body: error.message };
      throw error;
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://monitor');
    let response: MonitorResponse;
    try {
      response = this.respond(url.pathname.replace(/\/+$/, '') || '/', url.searchParams);
    } catch (error) {
      response = { status: 500, contentType: 'text/plain; charset=utf-8', body: `internal error: ${error instanceof Error ? error.message : String(error)}` };
    }
    res.writeHead(response.status, { 'content-type': response.contentType, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : response.body);
  }
}
