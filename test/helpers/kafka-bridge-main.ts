// The Kafka bridge as its own process, for kill -9 tests: it reaches NATS through
// NatsBroker (as a scaled-out bridge would) and Kafka through the given brokers.
// Usage: tsx test/helpers/kafka-bridge-main.ts <nats-url> '<bridge config JSON>'
// Prints "kafka bridge ready" once started; SIGTERM stops it cleanly.

import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { validateKafkaBridgeConfig } from '../../connectors/kafka/config.ts';
import { createKafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';

const [natsUrl, configJson] = process.argv.slice(2);
if (natsUrl === undefined || configJson === undefined) {
  process.stderr.write('usage: kafka-bridge-main.ts <nats-url> <config-json>\n');
  process.exit(2);
}
const config = validateKafkaBridgeConfig(JSON.parse(configJson));
const broker = await NatsBroker.connect({ servers: natsUrl, name: 'kafka-bridge' });
const bridge = createKafkaBridge({ broker, ...config, logLevel: 'nothing' });
await bridge.start();
process.stdout.write('kafka bridge ready\n');

const timer = setInterval(() => process.stdout.write(`metrics ${JSON.stringify(bridge.metrics().mappings)}\n`), 1_000);
process.once('SIGTERM', () => {
  clearInterval(timer);
  void bridge
    .stop()
    .then(() => broker.close())
    .then(() => process.exit(0));
});
