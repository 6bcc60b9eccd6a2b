// The Kafka bridge from flags and the environment: `--kafka-brokers`,
// `--kafka-mapping '<json>'` and their companions (SWITCHBOARD_KAFKA_*) are laid
// over the config file's `kafka` section. Client settings replace the file's
// one by one; each --kafka-mapping adds a mapping to the file's list. The result
// is still a raw section: connectors/kafka validates it (and names the mapping
// at fault), as it does a section written in the file.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/config/config-error.ts';
import type { ExtensionFlag } from '../../core/config/config-extension.ts';
import { bool, flagName, isObject, readableFile, text } from '../../core/config/setting-values.ts';

/** Repeatable: one mapping as JSON, appended to the section's mappings. */
const KAFKA_MAPPING = 'kafka_mapping';

/** A Kafka flag: `--kafka-client-id` sets kafka_client_id, as does SWITCHBOARD_KAFKA_CLIENT_ID. */
function kafkaFlag(key: string, type: 'string' | 'boolean' = 'string'): ExtensionFlag {
  return { key, flag: flagName(key), type, env: `SWITCHBOARD_${key.toUpperCase()}`, namedInErrors: true };
}

/** Every Kafka flag, in the order --help lists their variables; the repeatable --kafka-mapping has none. */
export const KAFKA_FLAGS: readonly ExtensionFlag[] = [
  kafkaFlag('kafka_brokers'),
  kafkaFlag('kafka_client_id'),
  /** A switch: TLS to the brokers with the system's CAs. */
  kafkaFlag('kafka_tls', 'boolean'),
  kafkaFlag('kafka_tls_ca'),
  kafkaFlag('kafka_tls_cert'),
  kafkaFlag('kafka_tls_key'),
  kafkaFlag('kafka_sasl_mechanism'),
  kafkaFlag('kafka_sasl_user'),
  kafkaFlag('kafka_sasl_pass'),
  { key: KAFKA_MAPPING, flag: flagName(KAFKA_MAPPING), type: 'string', multiple: true, namedInErrors: true },
];

type Wire = Record<string, unknown>;

/** True for the settings this module folds into the `kafka` section. */
function isKafkaSetting(key: string): boolean {
  return KAFKA_FLAGS.some((flag) => flag.key === key);
}

function pemFile(value: unknown, key: string): string {
  return readFileSync(readableFile(value, key), 'utf8');
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function mappingsFrom(value: unknown): unknown[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const which = items.length > 1 ? ` (the ${ordinal(i + 1)} of ${items.length})` : '';
    if (isObject(item)) return item;
    try {
      const parsed: unknown = JSON.parse(text(item, KAFKA_MAPPING));
      if (!isObject(parsed)) throw new ConfigError(KAFKA_MAPPING, `must be one mapping as a JSON object${which}`);
      return parsed;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(KAFKA_MAPPING, `is not JSON${which}: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** The `kafka` section with the kafka_* settings laid over it; the section unchanged when there are none. */
export function applyKafkaSettings(section: unknown, wire: Wire): unknown {
  if (!Object.keys(wire).some((key) => isKafkaSetting(key) && wire[key] !== undefined)) return section;
  if (section !== undefined && !isObject(section)) throw new ConfigError('kafka', 'must be an object with kafka and mappings');
  const out: Wire = { ...(section ?? {}) };
  const client: Wire = isObject(out.kafka) ? { ...out.kafka } : {};
  if (wire.kafka_brokers !== undefined) {
    client.brokers = text(wire.kafka_brokers, 'kafka_brokers')
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker !== '');
  }
  if (wire.kafka_client_id !== undefined) client.clientId = text(wire.kafka_client_id, 'kafka_client_id');
  const files = { ca: wire.kafka_tls_ca, cert: wire.kafka_tls_cert, key: wire.kafka_tls_key };
  const tlsOn = wire.kafka_tls !== undefined && bool(wire.kafka_tls, 'kafka_tls');
  if (tlsOn || Object.values(files).some((file) => file !== undefined)) {
    const ssl: Wire = isObject(client.ssl) ? { ...client.ssl } : {};
    for (const [name, file] of Object.entries(files)) if (file !== undefined) ssl[name] = pemFile(file, `kafka_tls_${name}`);
    if ((ssl.cert === undefined) !== (ssl.key === undefined)) {
      throw new ConfigError(ssl.cert === undefined ? 'kafka_tls_key' : 'kafka_tls_cert', 'a client certificate needs both kafka_tls_cert and kafka_tls_key');
    }
    client.ssl = Object.keys(ssl).length === 0 ? true : ssl;
  } else if (wire.kafka_tls !== undefined) {
    client.ssl = false;
  }
  if (wire.kafka_sasl_mechanism !== undefined || wire.kafka_sasl_user !== undefined || wire.kafka_sasl_pass !== undefined) {
    const sasl: Wire = isObject(client.sasl) ? { ...client.sasl } : {};
    if (wire.kafka_sasl_mechanism !== undefined) sasl.mechanism = text(wire.kafka_sasl_mechanism, 'kafka_sasl_mechanism');
    if (wire.kafka_sasl_user !== undefined) sasl.username = text(wire.kafka_sasl_user, 'kafka_sasl_user');
    if (wire.kafka_sasl_pass !== undefined) sasl.password = text(wire.kafka_sasl_pass, 'kafka_sasl_pass');
    client.sasl = sasl;
  }
  out.kafka = client;
  if (wire.kafka_mapping !== undefined) out.mappings = [...(Array.isArray(out.mappings) ? out.mappings : []), ...mappingsFrom(wire.kafka_mapping)];
  return out;
}
