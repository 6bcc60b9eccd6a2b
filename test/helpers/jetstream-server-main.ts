// A tiny entry point for tests that need Switchboard with JetStream in its own
// process (kill -9 durability): NatsServer + JetStreamEngine on one Router.
// Usage: node --import tsx test/helpers/jetstream-server-main.ts --port N --store-dir DIR [--sync always]

import { JetStreamEngine } from '../../core/jetstream/jetstream-engine.ts';
import { NatsServer } from '../../core/server/nats-server.ts';
import { Router } from '../../core/server/router.ts';

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
const router = new Router();
const engine = new JetStreamEngine(router, { storeDir, sync });
const started = performance.now();
await engine.start();
const server = new NatsServer({ host: '127.0.0.1', port }, { router, jetstream: true });
await server.start();
process.stdout.write(`JetStream ready on ${server.port} (recovered in ${(performance.now() - started).toFixed(0)} ms)\n`);

async function shutdown(): Promise<void> {
  await server.stop();
  await engine.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
