// How the NATS listener turns an accepted socket into a Connection: plain,
// or TLS the nats-server way (INFO in clear, then the handshake), wrapped in
// protocol tracing when the log level is trace (-V). The TLS material is
// loaded here, once, so a bad certificate fails with its config key before
// anything listens; a reload swaps it for the connections accepted after.

import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { TlsOptions } from '../config/tls-options.ts';
import type { Connection } from '../connection/connection.ts';
import { SocketConnection } from '../connection/socket-connection.ts';
import { createTlsContext, tlsServerOptions, type TlsServerOptions } from '../connection/tls-material.ts';
import type { Logger } from './logger.ts';
import { StartTlsConnection } from './tls-connection.ts';
import { TracingConnection } from './tracing-connection.ts';

export interface ListenerConnections {
  (socket: Socket): Connection;
  /** New certificate, key and CA (a reload); `material` was loaded and checked by the caller. Connections already up keep theirs. */
  replaceTls(material: TlsServerOptions): void;
}

export function listenerConnections(tls: TlsOptions | undefined, logger: Logger, limits: { maxControlLine: number; maxPayload: number }): ListenerConnections {
  let secureContext: SecureContext | null = tls === undefined ? null : createTlsContext(tlsServerOptions(tls, 'tls'));
  const trace = logger.isLevelEnabled('trace');
  const connections = (socket: Socket): Connection => {
    let connection: Connection =
      secureContext === null || tls === undefined
        ? new SocketConnection(socket)
        : new StartTlsConnection(socket, {
            secureContext,
            verify: tls.verify,
            mapCertificate: tls.verifyAndMap,
            handshakeTimeoutMs: tls.timeoutMs,
            onHandshakeError: (error, remote) => logger.warn({ remote, err: error.message }, 'TLS handshake error'),
          });
    if (trace) connection = new TracingConnection(connection, logger, limits);
    return connection;
  };
  return Object.assign(connections, {
    replaceTls(material: TlsServerOptions): void {
      if (secureContext !== null) secureContext = createTlsContext(material);
    },
  });
}
