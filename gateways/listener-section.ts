// The part every gateway's config section shares: `enabled`, `host`, `port`
// (or just true/false) and a `tls {}` block with nats-server's keys, with the
// `<section>_port` and `<section>_tls*` flags and SWITCHBOARD_<SECTION>_TLS_*
// variables that set them. Unknown keys are refused with the list of known
// ones, before anything listens.

import type { ExtensionFlag } from '../core/config/config-extension.ts';
import { ConfigError } from '../core/config/config-error.ts';
import { bool, int, isObject, text } from '../core/config/setting-values.ts';
import { parseTls, type TlsOptions } from '../core/config/tls-options.ts';
import { tlsServerOptions, type TlsServerOptions } from '../core/connection/tls-material.ts';
import type { Component, Descriptor, DescriptorContext } from './descriptor.ts';

export interface ListenerSection {
  enabled: boolean;
  host: string;
  port: number;
  /** False for the no-config default port: if it is taken, warn and run without it. */
  required: boolean;
  /** The section's `tls {}` block: this listener speaks TLS only. */
  tls?: TlsOptions;
}

/** The section's raw keys, checked against `enabled`, `host`, `port` and `extra`. */
export function sectionKeys(value: unknown, key: string, extra: readonly string[] = []): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === 'boolean') return { enabled: value };
  if (!isObject(value)) throw new ConfigError(key, 'must be an object or true/false');
  const known = new Set(['enabled', 'host', 'port', 'tls', ...extra]);
  for (const name of Object.keys(value)) if (!known.has(name)) throw new ConfigError(`${key}.${name}`, `unknown key (expected ${[...known].join(', ')})`);
  return value;
}

export function listenerSection(wire: Record<string, unknown>, key: string, defaultPort: number, defaultHost: string): ListenerSection {
  const section: ListenerSection = {
    enabled: wire.enabled === undefined ? true : bool(wire.enabled, `${key}.enabled`),
    host: wire.host === undefined ? defaultHost : text(wire.host, `${key}.host`),
    port: wire.port === undefined ? defaultPort : int(wire.port, `${key}.port`, 0, 65535),
    required: wire.port !== undefined,
  };
  if (wire.tls !== undefined) section.tls = parseTls(wire.tls, `${key}.tls`);
  return section;
}

/** The tls flags of a section, as nats-server's --tlscert/--tlskey/--tlscacert/--tlsverify with the section as prefix, plus --<section>_tlsmap (verify_and_map). */
const TLS_FLAGS: ReadonlyArray<{ suffix: string; tlsKey: string; env: string; type: 'string' | 'boolean' }> = [
  { suffix: 'tlscert', tlsKey: 'cert_file', env: 'TLS_CERT', type: 'string' },
  { suffix: 'tlskey', tlsKey: 'key_file', env: 'TLS_KEY', type: 'string' },
  { suffix: 'tlscacert', tlsKey: 'ca_file', env: 'TLS_CA', type: 'string' },
  { suffix: 'tlsverify', tlsKey: 'verify', env: 'TLS_VERIFY', type: 'boolean' },
  { suffix: 'tlsmap', tlsKey: 'verify_and_map', env: 'TLS_MAP', type: 'boolean' },
];

/**
 * `--<section>_port` (0 = any free port; no variable, as before) and the
 * section's TLS flags and SWITCHBOARD_<SECTION>_TLS_* variables, and how they
 * are laid over the section: a flag wins over the file's value, key by key.
 */
export function listenerSettings(section: string): Pick<Descriptor, 'flags' | 'applySettings'> {
  const portKey = `${section}_port`;
  const tlsFlags: ExtensionFlag[] = TLS_FLAGS.map((f) => ({ key: `${section}_${f.suffix}`, flag: `${section}_${f.suffix}`, type: f.type, env: `SWITCHBOARD_${section.toUpperCase()}_${f.env}` }));
  return {
    flags: [{ key: portKey, flag: portKey, type: 'string' }, ...tlsFlags],
    applySettings(sections, settings) {
      const existing = sections[section];
      const merged: Record<string, unknown> = { ...(isObject(existing) ? existing : {}) };
      let changed = false;
      if (settings[portKey] !== undefined) {
        merged.port = int(settings[portKey], portKey, 0, 65535);
        changed = true;
      }
      const tls: Record<string, unknown> = { ...(isObject(merged.tls) ? merged.tls : {}) };
      for (const f of TLS_FLAGS) {
        const value = settings[`${section}_${f.suffix}`];
        if (value === undefined) continue;
        tls[f.tlsKey] = f.type === 'boolean' ? bool(value, `${section}_${f.suffix}`) : value;
        merged.tls = tls;
        changed = true;
      }
      if (changed) sections[section] = merged;
    },
  };
}

/** The help line of a section's TLS flags. */
export function tlsHelp(section: string): string {
  return `      --${section}_tlscert, _tlskey, _tlscacert <file>, --${section}_tlsverify, --${section}_tlsmap
                               TLS on that listener (tls {} block; tlsmap = verify_and_map)
`;
}

/** The section's TLS material, loaded now (a bad file throws ConfigError naming `<section>.tls.<key>`), or undefined without a tls block. */
export function sectionTls(section: ListenerSection, key: string): (TlsServerOptions & { mapCertificate: boolean }) | undefined {
  if (section.tls === undefined) return undefined;
  return { ...tlsServerOptions(section.tls, `${key}.tls`), mapCertificate: section.tls.verifyAndMap };
}

/** How a listener reports a failed handshake (timeout, plain text, untrusted certificate): a warning, the rest keeps running. */
export function tlsErrorLogger(logger: DescriptorContext['logger'], label: string): (error: Error, remote: string) => void {
  return (error, remote) => logger.warn({ remote, err: error.message }, `${label} TLS handshake error`);
}

/** Turn the section off (--no_gateways), keeping what else it says. */
export function disableSection(section: string, sections: Record<string, unknown>): void {
  const existing = sections[section];
  sections[section] = { ...(isObject(existing) ? existing : {}), enabled: false };
}

/** A listening gateway as a registry Component, on the address its section gave. */
export function listenerComponent(
  section: ListenerSection,
  gateway: Pick<Component, 'start' | 'stop' | 'lameDuck'> & { replaceTls(material: TlsServerOptions): void; readonly port: number },
  extra: Pick<Component, 'accept' | 'monitor'> = {},
): Component {
  return {
    ...extra,
    start: () => gateway.start(),
    ...(gateway.lameDuck === undefined ? {} : { lameDuck: (durationMs: number, graceMs: number) => gateway.lameDuck?.(durationMs, graceMs) ?? Promise.resolve() }),
    stop: () => gateway.stop(),
    replaceTls: (material) => gateway.replaceTls(material),
    listener: { host: section.host, port: section.port, required: section.required, boundPort: () => gateway.port },
  };
}
