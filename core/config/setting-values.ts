// Validators for single setting values, shared by every part of the
// configuration: each throws ConfigError naming the key and what was wrong.

import { accessSync, constants } from 'node:fs';
import { ConfigError } from './config-error.ts';

/** A block of settings: a plain object, not null and not a list. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The command-line flag of a settings key, without dashes: nats_tls_ca -> nats-tls-ca. */
export function flagName(key: string): string {
  return key.replaceAll('_', '-');
}

export function int(value: unknown, key: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function bool(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|yes|on|1)$/i.test(value)) return true;
  if (typeof value === 'string' && /^(false|no|off|0)$/i.test(value)) return false;
  throw new ConfigError(key, `must be true or false, got ${JSON.stringify(value)}`);
}

export function text(value: unknown, key: string): string {
  if (typeof value === 'string' && value.trim().length > 0) return value.trim();
  throw new ConfigError(key, `must be a non-empty string, got ${JSON.stringify(value)}`);
}

export function readableFile(value: unknown, key: string): string {
  const path = text(value, key);
  try {
    accessSync(path, constants.R_OK);
  } catch (cause) {
    throw new ConfigError(key, `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  return path;
}

/** "host:port", "[v6]:port" or ":port". */
export function hostPort(value: unknown, key: string): { host?: string; port: number } {
  const s = text(value, key);
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s);
  if (!m) throw new ConfigError(key, `must be "host:port", got ${JSON.stringify(s)}`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: int(m[3], key, 0, 65535) };
}
