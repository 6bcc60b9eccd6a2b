// Connection events in the log, as nats-server's -D output does: opened and
// closed (with the reason) at debug level, authentication failures and slow
// consumers at warn.

import type { Logger } from 'pino';
import type { NatsClient } from './nats-client.ts';
import type { ServerObserver } from './nats-server.ts';

function who(client: NatsClient): Record<string, unknown> {
  return {
    cid: client.id,
    type: client.connection.transport === 'websocket' ? 'websocket-nats' : 'nats',
    ip: client.connection.remoteAddress,
    port: client.connection.remotePort,
    ...(client.options.name ? { name: client.options.name } : {}),
  };
}

export function logObserver(logger: Logger): ServerObserver {
  return {
    clientOpened: (client) => logger.debug(who(client), 'client connection created'),
    clientClosed: (client, reason) => logger.debug({ ...who(client), reason, user: client.principal.name }, 'client connection closed'),
    authFailed: (client) => logger.warn({ ...who(client), user: client.options.user }, 'authorization violation'),
    slowConsumer: (client) => logger.warn({ ...who(client), pendingBytes: client.pendingBytes }, 'slow consumer detected'),
  };
}
