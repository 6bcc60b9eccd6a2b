// Every leaf link of one server (nats-server's `leafnodes` block): the remotes
// it dials (leaf side, with reconnect), the listener it accepts on (hub side),
// its loop detection subject and its JetStream domain mapping, and the
// /leafz and /varz figures. It sits on the router only (DESIGN dependency
// rule: no JetStream import); createCore() builds it when configured.

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Authorizer } from '../auth/authorizer.ts';
import { OpenAuthorizer } from '../auth/authorizer.ts';
import type { Connection } from '../connection/connection.ts';
import type { Logger } from '../server/logger.ts';
import type { MetricFamily } from '../server/monitoring/prometheus-text.ts';
import type { Router } from '../server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../server/subscription.ts';
import { JetStreamDomainMapping } from './js-domain-mapping.ts';
import { LeafCloseReason, LeafConnection, type LeafLinkHost, type LeafLinkOptions } from './leaf-connection.ts';
import { LeafListener, type LeafListenerOptions } from './leaf-listener.ts';
import { dialLeaf, reconnectDelay, redact, type LeafIdentity, type LeafRemoteOptions } from './leaf-remote.ts';
import { DENY_ACROSS_LEAF, LOOP_DETECTION_PREFIX, type LeafConnect, type LeafInfo } from './leaf-wire.ts';

export interface LeafNodesOptions {
  listener?: LeafListenerOptions;
  remotes: readonly LeafRemoteOptions[];
  /** This server's JetStream domain, when it has one and JetStream is on. */
  domain?: string;
}

export interface LeafNodesDeps {
  router: Router;
  identity: LeafIdentity;
  link: LeafLinkOptions;
  /** Connection ids from the NATS server's counter, so /connz and /leafz ids never collide. */
  nextId: () => number;
  logger: Logger;
  /** The listener block's authorization; absent = any leaf is admitted. */
  authorizer?: Authorizer;
  /** The listener's socket-to-Connection factory (TLS after INFO when configured). */
  connections: (socket: Socket) => Connection;
}

/** One configured remote and how its link is doing (Switchboard's addition to /leafz). */
interface RemoteState {
  readonly options: LeafRemoteOptions;
  link: LeafConnection | null;
  attempt: number;
  nextUrl: number;
  connects: number;
  lastError: string | null;
  lastConnected: Date | null;
  timer: NodeJS.Timeout | null;
}

const DEFAULT_RECONNECT_MS = 1_000;
const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** nats-server leafNodeReconnectDelayAfterLoopDetected. */
const LOOP_DELAY_MS = 30_000;

export class LeafNodes implements LeafLinkHost {
  readonly router: Router;
  readonly loopSubject = `${LOOP_DETECTION_PREFIX}${randomToken()}`;
  readonly deny = DENY_ACROSS_LEAF;
  readonly denyOut: readonly string[];
  readonly links = new Set<LeafConnection>();
  private readonly listener: LeafListener | null;
  private readonly remotes: RemoteState[];
  private readonly mapping: JetStreamDomainMapping | null;
  private readonly loopSub: Subscription;
  private stopped = false;

  constructor(readonly options: LeafNodesOptions, private readonly deps: LeafNodesDeps) {
    this.router = deps.router;
    this.mapping = options.domain === undefined ? null : new JetStreamDomainMapping(deps.router, options.domain);
    this.denyOut = this.mapping === null ? DENY_ACROSS_LEAF : [...DENY_ACROSS_LEAF, this.mapping.apiSubjects];
    const authorizer = deps.authorizer ?? new OpenAuthorizer();
    this.listener =
      options.listener === undefined
        ? null
        : new LeafListener(options.listener, {
            authorizer,
            connections: deps.connections,
            infoBase: () => this.infoBase(),
            serve: (connection, info, admit, authTimeoutMs) => this.serve(connection, info, admit, authTimeoutMs),
          });
    this.remotes = options.remotes.map((remote) => ({ options: remote, link: null, attempt: 0, nextUrl: 0, connects: 0, lastError: null, lastConnected: null, timer: null }));
    const quiet: Subscriber = { id: nextInternalSubscriberId(), echo: false, deliver() {}, subscriptionEnded() {} };
    this.loopSub = new Subscription(quiet, this.loopSubject, null, 'leaf-loop-detection');
  }

  /** The hub-side port actually bound (0 without a listener). */
  get port(): number {
    return this.listener?.port ?? 0;
  }

  async start(): Promise<void> {
    this.router.subscribe(this.loopSub);
    this.mapping?.start();
    await this.listener?.start();
    for (const remote of this.remotes) this.dial(remote);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const remote of this.remotes) if (remote.timer !== null) clearTimeout(remote.timer);
    for (const link of [...this.links]) link.close(LeafCloseReason.ServerShutdown);
    await this.listener?.stop();
    this.mapping?.stop();
    this.router.unsubscribe(this.loopSub);
  }

  // ---- LeafLinkHost ----

  linkUp(link: LeafConnection): void {
    this.deps.logger.info({ cid: link.id, remote: link.remote.name, spoke: !link.solicited }, `leafnode connection to ${link.remote.name || link.connection.remoteAddress} up`);
  }

  linkClosed(link: LeafConnection, reason: string): void {
    this.links.delete(link);
    if (link.isActive || link.remote.id !== '') this.deps.logger.info({ cid: link.id, remote: link.remote.name, reason }, 'leafnode connection closed');
    const remote = this.remotes.find((r) => r.link === link);
    if (remote === undefined) return;
    remote.link = null;
    remote.lastError = reason;
    this.scheduleDial(remote, reason.startsWith(LeafCloseReason.LoopDetected) ? LOOP_DELAY_MS : undefined);
  }

  isSolicitedLink(subscriber: Subscriber): boolean {
    return subscriber instanceof LeafConnection && subscriber.solicited;
  }

  private infoBase(): Omit<LeafInfo, 'nonce' | 'client_id' | 'leafnode_urls'> {
    const { identity } = this.deps;
    return {
      server_id: identity.serverId,
      server_name: identity.name,
      version: identity.version,
      proto: 1,
      headers: true,
      max_payload: this.deps.link.maxPayload,
      ...(identity.jetstream ? { jetstream: true } : {}),
      ...(this.options.domain === undefined ? {} : { domain: this.options.domain }),
    };
  }

  /** Hub side: a leaf connected to our listener. */
  private serve(connection: Connection, info: LeafInfo, admit: (connect: LeafConnect) => Promise<string | null> | string | null, authTimeoutMs: number): void {
    const link = new LeafConnection(this.deps.nextId(), connection, false, this, this.deps.link);
    this.links.add(link);
    link.admit = async (connect) => {
      const refusal = await admit(connect);
      if (refusal === null) this.evictDuplicate(link);
      return refusal;
    };
    link.sendLine(`INFO ${JSON.stringify({ ...info, client_id: link.id })}\r\n`);
    link.start();
    setTimeout(() => {
      if (!link.isActive && !link.isClosed) link.close(LeafCloseReason.AuthenticationTimeout);
    }, authTimeoutMs).unref();
  }

  /**
   * A leaf that dials again while its old link has not timed out yet (a lost
   * link is noticed late): the old one goes first, as nats-server's
   * addLeafNodeConnection replaces a connection from the same server, so its
   * interest (its `$LDS.` subject above all) is not offered back to it.
   */
  private evictDuplicate(link: LeafConnection): void {
    if (link.remote.id === '') return;
    for (const other of this.links) {
      if (other !== link && !other.solicited && other.remote.id === link.remote.id) other.close(LeafCloseReason.Duplicate);
    }
  }

  /** Leaf side: dial the remote's next URL; on failure, try again later. */
  private dial(remote: RemoteState): void {
    remote.timer = null;
    if (this.stopped) return;
    const urls = remote.options.urls;
    const url = urls[remote.nextUrl++ % urls.length];
    dialLeaf(url, remote.options, this.deps.identity).then(
      (dialed) => {
        if (this.stopped) return dialed.connection.destroy();
        const link = new LeafConnection(this.deps.nextId(), dialed.connection, true, this, this.deps.link);
        link.onInfo(JSON.stringify(dialed.info));
        remote.link = link;
        remote.attempt = 0;
        remote.connects++;
        remote.lastConnected = new Date();
        this.links.add(link);
        link.sendLine(`CONNECT ${JSON.stringify(dialed.connect)}\r\n`);
        link.start(dialed.rest);
        link.activate();
      },
      (error: Error) => {
        remote.lastError = error.message;
        this.deps.logger.warn({ url: redact(url), err: error.message }, 'leafnode remote unreachable');
        this.scheduleDial(remote);
      },
    );
  }

  private scheduleDial(remote: RemoteState, delayMs?: number): void {
    if (this.stopped || remote.timer !== null) return;
    const base = remote.options.reconnectDelayMs ?? DEFAULT_RECONNECT_MS;
    const delay = delayMs ?? reconnectDelay(remote.attempt++, base, remote.options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS);
    remote.timer = setTimeout(() => this.dial(remote), delay);
    remote.timer.unref();
  }

  /** nats-server's /leafz (2.10+: each link's `id`; `subs=1` lists its subscriptions), with Switchboard's per-remote state under `remotes`. */
  leafz(serverId: string, query?: URLSearchParams): Record<string, unknown> {
    const subs = query?.get('subs') === '1' || query?.get('subs') === 'true';
    const leafs = [...this.links].filter((l) => l.isActive);
    return {
      server_id: serverId,
      now: new Date().toISOString(),
      leafnodes: leafs.length,
      leafs: leafs.map((l) => ({
        id: l.id,
        name: l.remote.name,
        is_spoke: l.solicited,
        account: '$G',
        ip: l.connection.remoteAddress,
        port: l.connection.remotePort,
        rtt: l.rttMs < 0 ? '0s' : `${l.rttMs}ms`,
        in_msgs: l.stats.inMsgs,
        out_msgs: l.stats.outMsgs,
        in_bytes: l.stats.inBytes,
        out_bytes: l.stats.outBytes,
        subscriptions: l.subscriptionCount,
        pending_bytes: l.pendingBytes,
        in_flight_bytes: l.inFlightBytes,
        ...(subs ? { subscriptions_list: l.remoteSubjects } : {}),
        compression: 'off',
        ...(l.remote.domain === undefined ? {} : { domain: l.remote.domain }),
      })),
      remotes: this.remotes.map((r) => ({
        urls: r.options.urls.map(redact),
        connected: r.link?.isActive === true,
        // The `id` of its entry in `leafs` while linked, so a reader can join the two lists.
        ...(r.link?.isActive === true ? { link_id: r.link.id } : {}),
        connects: r.connects,
        last_error: r.lastError ?? '',
        ...(r.lastConnected === null ? {} : { last_connected: r.lastConnected.toISOString() }),
      })),
    };
  }

  /** /varz `leaf` (nats-server's LeafNodeOptsVarz subset). */
  varzLeaf(): Record<string, unknown> {
    const listener = this.options.listener;
    if (listener === undefined) return this.remotes.length === 0 ? {} : { remotes: this.remotes.map((r) => ({ url: r.options.urls.map(redact) })) };
    return { host: listener.host, port: this.port, auth_timeout: listener.authTimeoutMs / 1000, tls_required: listener.tls !== undefined };
  }

  /** Per remote and per link, as /metrics series (nats-server has none; names follow Switchboard's). */
  metrics(): MetricFamily[] {
    const active = [...this.links].filter((l) => l.isActive);
    const link = (l: LeafConnection): Record<string, string> => ({ remote: l.remote.name, role: l.solicited ? 'leaf' : 'hub' });
    const perLink = (name: string, type: 'counter' | 'gauge', help: string, value: (l: LeafConnection) => number): MetricFamily => ({
      name,
      type,
      help,
      samples: active.map((l) => ({ labels: link(l), value: value(l) })),
    });
    const remote = (r: RemoteState): Record<string, string> => ({ url: redact(r.options.urls[0]) });
    return [
      { name: 'switchboard_leafnode_links', type: 'gauge', help: 'Leafnode links up', samples: [{ value: active.length }] },
      { name: 'switchboard_leafnode_remote_connected', type: 'gauge', help: 'Whether the remote (a hub this server dials) is linked', samples: this.remotes.map((r) => ({ labels: remote(r), value: r.link?.isActive === true ? 1 : 0 })) },
      { name: 'switchboard_leafnode_remote_connects_total', type: 'counter', help: 'Links made to the remote', samples: this.remotes.map((r) => ({ labels: remote(r), value: r.connects })) },
      perLink('switchboard_leafnode_messages_received_total', 'counter', 'Messages received over the link', (l) => l.stats.inMsgs),
      perLink('switchboard_leafnode_messages_sent_total', 'counter', 'Messages sent over the link', (l) => l.stats.outMsgs),
      perLink('switchboard_leafnode_bytes_received_total', 'counter', 'Payload bytes received over the link', (l) => l.stats.inBytes),
      perLink('switchboard_leafnode_bytes_sent_total', 'counter', 'Payload bytes sent over the link', (l) => l.stats.outBytes),
      perLink('switchboard_leafnode_pending_bytes', 'gauge', 'Message bytes queued for the link, not written yet', (l) => l.pendingBytes),
      perLink('switchboard_leafnode_in_flight_bytes', 'gauge', 'Message bytes written to the link and not yet acknowledged by a PONG', (l) => l.inFlightBytes),
      perLink('switchboard_leafnode_rtt_seconds', 'gauge', 'Round trip of the last answered PING', (l) => Math.max(0, l.rttMs) / 1000),
    ];
  }

  get activeCount(): number {
    let n = 0;
    for (const l of this.links) if (l.isActive) n++;
    return n;
  }
}

function randomToken(): string {
  return randomBytes(12).toString('base64url');
}
