// Reading a configuration file: JSON (.json), YAML (.yaml, .yml) or
// nats-server's own format (anything else, e.g. .conf; JSON is also valid
// there). The result is a plain object in nats-server's key names.

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.ts';
import { parseNatsConf } from './nats-conf.ts';

/** `via` is how the file was named (`--config` or `SWITCHBOARD_CONFIG`), for error messages. */
export function readConfigFile(path: string, via = '--config'): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(via, `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { source: via.startsWith('-') ? 'command line' : 'environment', cause });
  }
  const ext = extname(path).toLowerCase();
  let value: unknown;
  try {
    if (ext === '.json') value = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') value = parseYaml(text);
    else value = parseNatsConf(text);
  } catch (cause) {
    throw new ConfigError(via, `${path} is not valid ${ext === '.json' ? 'JSON' : ext === '.yaml' || ext === '.yml' ? 'YAML' : 'nats-server configuration'}: ${cause instanceof Error ? cause.message : String(cause)}`, { source: path, cause });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(via, `${path} must hold an object of settings at the top level`, { source: path });
  return value as Record<string, unknown>;
}
