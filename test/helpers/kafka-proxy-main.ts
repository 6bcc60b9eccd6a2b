// The Kafka test proxy (kafka-proxy.ts) as a process of its own, for the
// benchmark: in the bench's process it would spend that process's CPU relaying
// every byte, a cost no real deployment has.
//   node --import tsx test/helpers/kafka-proxy-main.ts <upstream host:port,...>
// prints "kafka proxy ready <host:port,...>" and relays until killed.

import { startKafkaProxy } from './kafka-proxy.ts';

const upstream = process.argv[2]?.split(',').filter((address) => address.length > 0) ?? [];
if (upstream.length === 0) {
  process.stderr.write('usage: kafka-proxy-main.ts <upstream host:port,...>\n');
  process.exit(2);
}
const proxy = await startKafkaProxy(upstream.length);
proxy.retarget(upstream);
process.stdout.write(`kafka proxy ready ${proxy.brokers.join(',')}\n`);
