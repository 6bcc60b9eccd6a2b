// The Kafka bridge in the registry: the `kafka` section (validated by
// validateKafkaBridgeConfig, which names the mapping at fault), the
// --kafka-* flags and SWITCHBOARD_KAFKA_* variables laid over it
// (settings.ts), and /kafkaz, its /metrics series, its mappings in /connz and
// its /varz section on the monitor (kafka-monitor.ts). It runs
// only when the configuration has a kafka section.

import { ConfigError } from '../../core/config/config-error.ts';
import type { Descriptor } from '../../gateways/descriptor.ts';
import { validateKafkaBridgeConfig, type KafkaBridgeConfig } from './config.ts';
import { createKafkaBridge } from './kafka-bridge.ts';
import { kafkaMonitor } from './kafka-monitor.ts';
import { applyKafkaSettings, KAFKA_FLAGS } from './settings.ts';

const HELP = `Kafka bridge (over the config file's kafka section; see the README):
      --kafka-brokers <list>   comma-separated host:port of the Kafka cluster
      --kafka-client-id <id>   Kafka client id
      --kafka-mapping <json>   one mapping as JSON, added to the file's (repeatable), e.g.
                               '{"name":"in","direction":"kafka-to-nats","topics":["orders"],
                                 "groupId":"sb","subject":"kafka.{topic}"}'
      --kafka-tls              TLS to the brokers (system CAs)
      --kafka-tls-ca <file>    CA of the brokers' certificates (enables TLS)
      --kafka-tls-cert <file>  client certificate for the brokers
      --kafka-tls-key <file>   client certificate key
      --kafka-sasl-mechanism <m>  plain, scram-sha-256 or scram-sha-512
      --kafka-sasl-user <user>    SASL user
      --kafka-sasl-pass <pass>    SASL password (better: SWITCHBOARD_KAFKA_SASL_PASS)
`;

/** Error lines per mapping per second; a burst (a full buffer drops each message) is counted, not written line by line. */
const ERRORS_PER_SECOND = 10;

function errorLog(write: (mapping: string, message: string, suppressed: number) => void): (mapping: string, message: string) => void {
  const windows = new Map<string, { second: number; lines: number; suppressed: number }>();
  return (mapping, message) => {
    const second = Math.floor(Date.now() / 1000);
    let w = windows.get(mapping);
    if (w === undefined || w.second !== second) windows.set(mapping, (w = { second, lines: 0, suppressed: w?.suppressed ?? 0 }));
    if (w.lines >= ERRORS_PER_SECOND) {
      w.suppressed++;
      return;
    }
    w.lines++;
    write(mapping, message, w.suppressed);
    w.suppressed = 0;
  };
}

export const kafkaDescriptor: Descriptor<KafkaBridgeConfig | null, 'kafka'> = {
  name: 'kafka',
  kind: 'connector',
  label: 'Kafka bridge',
  flags: KAFKA_FLAGS,
  help: HELP,
  applySettings(sections, settings) {
    const kafka = applyKafkaSettings(sections.kafka, settings);
    if (kafka !== undefined) sections.kafka = kafka;
  },
  parse(raw) {
    if (raw === undefined) return null;
    try {
      return validateKafkaBridgeConfig(raw);
    } catch (cause) {
      throw new ConfigError('kafka', cause instanceof Error ? cause.message : String(cause), { cause });
    }
  },
  create(section, { broker, logger, connectionIds }) {
    if (section === null) return null;
    // kafkajs's log lines go to the server's logger, tagged with kafkajs's namespace.
    const bridge = createKafkaBridge({
      broker,
      kafka: section.kafka,
      mappings: section.mappings,
      logger: (entry) => logger[entry.level]({ kafkajs: entry.namespace, ...entry.extra }, entry.message),
      // As they happen: an operator sees a mapping go to retrying, and why, without polling /kafkaz.
      events: {
        stateChanged: (mapping, from, to) => (to === 'retrying' ? logger.warn : logger.info).call(logger, { mapping, from, to }, `Kafka mapping ${mapping}: ${to}`),
        error: errorLog((mapping, message, suppressed) => logger.error({ mapping, err: message, ...(suppressed > 0 ? { suppressed } : {}) }, `Kafka mapping ${mapping}: ${message}`)),
      },
    });
    return {
      async start() {
        // A Kafka outage never stops the server: the bridge retries on its own.
        await bridge.start();
        const { kafkajsSpeedups } = bridge.metrics();
        logger.info({ brokers: section.kafka.brokers, kafkajsSpeedups }, 'Kafka bridge started');
        if (kafkajsSpeedups !== 'active') logger.warn({ kafkajsSpeedups }, 'kafkajs runs as shipped: its produce path is about 5x slower per record');
      },
      stop: () => bridge.stop(),
      monitor: kafkaMonitor(bridge, connectionIds),
    };
  },
};
