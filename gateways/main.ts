// Composition root and command line: reads options, builds the core and the
// gateways, starts them, and shuts down cleanly on SIGTERM/SIGINT.

import { parseArgs } from 'node:util';
import { NatsServer } from '../core/server/nats-server.ts';

const USAGE = `Usage: switchboard [options]

  -a, --addr <host>   NATS listen address (default 127.0.0.1)
  -p, --port <port>   NATS client port (default 4222; 0 = any free port)
  -h, --help          show this help
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      addr: { type: 'string', short: 'a' },
      port: { type: 'string', short: 'p' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`switchboard: --port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}\n`);
    return 1;
  }
  const server = new NatsServer({ host: values.addr, port });
  await server.start();
  process.stdout.write(`switchboard: NATS listening on ${server.options.host}:${server.port}\n`);
  const shutdown = async (): Promise<void> => {
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return -1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`switchboard: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
