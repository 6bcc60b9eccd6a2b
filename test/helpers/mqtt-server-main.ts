// Switchboard core + JetStream + the MQTT gateway (persistence in JetStream) in
// its own process, for kill -9 tests.
// Usage: node --import tsx test/helpers/mqtt-server-main.ts --mqtt-port N --store-dir DIR [--persistence memory] [--save-delay-ms N] [--expiry-sweep-ms N] [--max-queued N] [--max-pending-bytes N]

import { createCore } from '../../core/create-core.ts';
import { createMqttGateway } from '../../gateways/mqtt/gateway.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const storeDir = arg('--store-dir');
if (storeDir === undefined) {
  process.stderr.write('--store-dir is required\n');
  process.exit(2);
}
const core = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { storeDir } });
await core.start();
const gateway = createMqttGateway({
  broker: core.broker,
  host: '127.0.0.1',
  port: Number(arg('--mqtt-port') ?? '0'),
  persistence: arg('--persistence') === 'memory' ? 'memory' : 'jetstream',
  sessionSaveDelayMs: Number(arg('--save-delay-ms') ?? '50'),
  expirySweepMs: Number(arg('--expiry-sweep-ms') ?? '60000'),
  maxQueued: arg('--max-queued') === undefined ? undefined : Number(arg('--max-queued')),
  maxPendingBytes: arg('--max-pending-bytes') === undefined ? undefined : Number(arg('--max-pending-bytes')),
});
await gateway.start();
// Benchmarks ask for the live heap (after a full GC, with --expose-gc) with SIGUSR2;
// protection tests read the gateway's counters and the RSS from the STATS line.
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`HEAP ${process.memoryUsage().heapUsed}\n`);
  process.stdout.write(`STATS ${JSON.stringify({ ...gateway.stats, rss: process.memoryUsage().rss })}\n`);
});
process.stdout.write(`MQTT ready on ${gateway.port}\n`); // after the handlers: a reader may signal at once

async function shutdown(): Promise<void> {
  await gateway.stop();
  await core.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
