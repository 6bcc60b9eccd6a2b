// A tiny entry point for tests that need Switchboard with JetStream in its own
// process (kill -9 durability): createCore() with JetStream, no gateways.
// Usage: node --import tsx test/helpers/jetstream-server-main.ts --port N --store-dir DIR [--sync always] [--segment-bytes N]

import { createCore } from '../../core/create-core.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg('--port') ?? '0');
const storeDir = arg('--store-dir');
if (storeDir === undefined) {
  process.stderr.write('--store-dir is required\n');
  process.exit(2);
}
const sync = arg('--sync') === 'always' ? 'always' : 'os';
const segmentBytes = arg('--segment-bytes') === undefined ? undefined : Number(arg('--segment-bytes'));
const core = createCore({ server: { host: '127.0.0.1', port }, jetstream: { storeDir, sync, segmentBytes } });
const started = performance.now();
await core.start();
process.stdout.write(`JetStream ready on ${core.nats.port} (sync ${sync}, recovered in ${(performance.now() - started).toFixed(0)} ms)\n`);

async function shutdown(): Promise<void> {
  await core.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
