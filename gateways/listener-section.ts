// The part every gateway's config section shares: `enabled`, `host`, `port`
// (or just true/false), with the `<section>_port` flag that sets the port.
// Unknown keys are refused with the list of known ones, before anything listens.

import { ConfigError } from '../core/config/config-error.ts';
import { bool, int, isObject, text } from '../core/config/setting-values.ts';
import type { Component, Descriptor } from './descriptor.ts';

export interface ListenerSection {
  enabled: boolean;
  host: string;
  port: number;
  /** False for the no-config default port: if it is taken, warn and run without it. */
  required: boolean;
}

/** The section's raw keys, checked against `enabled`, `host`, `port` and `extra`. */
export function sectionKeys(value: unknown, key: string, extra: readonly string[] = []): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === 'boolean') return { enabled: value };
  if (!isObject(value)) throw new ConfigError(key, 'must be an object or true/false');
  const known = new Set(['enabled', 'host', 'port', ...extra]);
  for (const name of Object.keys(value)) if (!known.has(name)) throw new ConfigError(`${key}.${name}`, `unknown key (expected ${[...known].join(', ')})`);
  return value;
}

export function listenerSection(wire: Record<string, unknown>, key: string, defaultPort: number, defaultHost: string): ListenerSection {
  return {
    enabled: wire.enabled === undefined ? true : bool(wire.enabled, `${key}.enabled`),
    host: wire.host === undefined ? defaultHost : text(wire.host, `${key}.host`),
    port: wire.port === undefined ? defaultPort : int(wire.port, `${key}.port`, 0, 65535),
    required: wire.port !== undefined,
  };
}

/**
 * `--<section>_port`, a flag shorthand for the section's port (0 = any free
 * port; no variable, as before), and how it is laid over the section: a flag
 * wins over the file's port.
 */
export function portSetting(section: string): Pick<Descriptor, 'flags' | 'applySettings'> {
  const key = `${section}_port`;
  return {
    flags: [{ key, flag: key, type: 'string' }],
    applySettings(sections, settings) {
      const value = settings[key];
      if (value === undefined) return;
      const existing = sections[section];
      sections[section] = { ...(isObject(existing) ? existing : {}), port: int(value, key, 0, 65535) };
    },
  };
}

/** Turn the section off (--no_gateways), keeping what else it says. */
export function disableSection(section: string, sections: Record<string, unknown>): void {
  const existing = sections[section];
  sections[section] = { ...(isObject(existing) ? existing : {}), enabled: false };
}

/** A listening gateway as a registry Component, on the address its section gave. */
export function listenerComponent(section: ListenerSection, gateway: { start(): Promise<void>; stop(): Promise<void>; readonly port: number }, extra: Pick<Component, 'accept'> = {}): Component {
  return {
    ...extra,
    start: () => gateway.start(),
    stop: () => gateway.stop(),
    listener: { host: section.host, port: section.port, required: section.required, boundPort: () => gateway.port },
  };
}
