// Configuration reload without a restart (SIGHUP, `switchboard --signal
// reload=<pid>`), as nats-server's (NS server/reload.go): the file, the
// environment and the flags are read again; users, permissions, TLS
// certificates and limits change in place, and the connections that are up
// keep running under the new rules (core/auth/reloadable-authorizer.ts).
// Everything is checked before anything changes: a file that does not parse,
// a certificate that does not load, or a change only a restart can make (a
// listen address, JetStream, a gateway's options) leaves the running
// configuration as it was and throws ConfigError naming the file, key and
// reason (nats-server: "config reload not supported for <option>").

import { isDeepStrictEqual } from 'node:util';
import type { CalloutContext } from '../core/auth/callout-authorizer.ts';
import { createAuthorizer } from '../core/auth/create-authorizer.ts';
import type { ReloadableAuthorizer, ReloadOutcome } from '../core/auth/reloadable-authorizer.ts';
import { ConfigError } from '../core/config/config-error.ts';
import type { SwitchboardConfig } from '../core/config/switchboard-config.ts';
import type { TlsOptions } from '../core/config/tls-options.ts';
import { tlsServerOptions, type TlsServerOptions } from '../core/connection/tls-material.ts';
import type { Core } from '../core/create-core.ts';
import { isObject } from '../core/config/setting-values.ts';
import type { Gateways } from './create-gateways.ts';
import { parseSections, REGISTRY } from './registry.ts';

/** What a reload acts on: the embedded core (null in cluster mode), the gateways once built, the shared authorizer. */
export interface ReloadTargets {
  readonly authorizer: ReloadableAuthorizer;
  /** How an auth_callout block reaches its service (absent: none can be configured). */
  readonly callout?: CalloutContext;
  readonly core: Core | null;
  readonly gateways: Gateways | null;
}

const RESTART_ONLY = 'cannot be changed by a reload (restart to apply it)';

/** The parts of a tls block a reload cannot change: the listeners' handshake policy. Certificate, key, CA, ciphers and minimum version can. */
function tlsPolicy(tls: TlsOptions | undefined): object | null {
  return tls === undefined ? null : { verify: tls.verify, verify_and_map: tls.verifyAndMap, timeout: tls.timeoutMs };
}

/** The first key of `before`/`after` whose value differs, or undefined. */
function changedKey(before: Record<string, unknown>, after: Record<string, unknown>): string | undefined {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].find((key) => !isDeepStrictEqual(before[key], after[key]));
}

/** tlsPolicy of a section as written (the running one's files may be gone: a rotated certificate). */
function rawTlsPolicy(section: unknown): object | null {
  if (!isObject(section) || !isObject(section.tls)) return null;
  const { verify, verify_and_map, timeout } = section.tls;
  return { verify, verify_and_map, timeout };
}

function withoutTls(section: unknown): Record<string, unknown> {
  if (!isObject(section)) return { value: section };
  const { tls: _tls, ...rest } = section;
  return rest;
}

/** Throws ConfigError naming the first setting that only a restart can change. */
function checkReloadable(current: SwitchboardConfig, next: SwitchboardConfig, source: string | undefined): void {
  const refuse = (key: string): never => {
    throw new ConfigError(key, RESTART_ONLY, { source });
  };
  const server = changedKey({ host: current.server.host, port: current.server.port, server_name: current.server.serverName }, { host: next.server.host, port: next.server.port, server_name: next.server.serverName });
  if (server !== undefined) refuse(server);
  const policy = changedKey({ tls: tlsPolicy(current.tls) }, { tls: tlsPolicy(next.tls) });
  if (policy !== undefined) refuse('tls');
  if (!isDeepStrictEqual(current.monitor, next.monitor)) refuse('http_port');
  if (!isDeepStrictEqual(current.jetstream, next.jetstream)) refuse('jetstream');
  if (!isDeepStrictEqual(current.cluster, next.cluster)) refuse('nats_url');
  if (!isDeepStrictEqual(current.log, next.log)) refuse('log_level');
  for (const { name } of REGISTRY) {
    const key = changedKey(withoutTls(current.sections[name]), withoutTls(next.sections[name]));
    if (key !== undefined) refuse(`${name}.${key}`);
    if (!isDeepStrictEqual(rawTlsPolicy(current.sections[name]), rawTlsPolicy(next.sections[name]))) refuse(`${name}.tls`);
  }
}

/**
 * Check `next` against the running `current` and load its TLS material, then
 * apply it all; throws ConfigError (and changes nothing) when it cannot.
 * Resolves once every live connection was checked against the new rules.
 */
export function reloadConfiguration(current: SwitchboardConfig, next: SwitchboardConfig, targets: ReloadTargets, source?: string): Promise<ReloadOutcome> {
  checkReloadable(current, next, source);
  // Load everything first: a bad file anywhere must leave every listener as it was.
  const authorizer = createAuthorizer(next.auth, targets.callout);
  const coreTls = next.tls === undefined ? undefined : tlsServerOptions(next.tls, 'tls');
  const sections = parseSections(next.sections, next.server.host) as Record<string, { tls?: TlsOptions } | null>;
  const gatewayTls = new Map<string, TlsServerOptions>();
  for (const [name, section] of Object.entries(sections)) {
    if (isObject(section) && section.tls !== undefined) gatewayTls.set(name, tlsServerOptions(section.tls, `${name}.tls`));
  }
  targets.core?.reload({ server: next.server, tls: coreTls });
  for (const [name, material] of gatewayTls) targets.gateways?.components.get(name)?.replaceTls?.(material);
  return targets.authorizer.replace(authorizer);
}
