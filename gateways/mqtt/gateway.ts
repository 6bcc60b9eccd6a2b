// createMqttGateway(): MQTT 3.1.1 and 5 in front of the Broker port. Built
// separately from listening (CONVENTIONS 4): start() listens on TCP, accept()
// serves any other Connection (WebSocket `/mqtt`, in-memory pairs).

import { once } from 'node:events';
import { createServer, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Connection } from '../../core/connection/connection.ts';
import { certificateCredentials } from '../../core/connection/peer-certificate.ts';
import { SocketConnection } from '../../core/connection/socket-connection.ts';
import { closeFailedHandshake, replaceServerTls, type TlsServerOptions } from '../../core/connection/tls-material.ts';
import type { MonitorExtension } from '../descriptor.ts';
import { MqttGatewayCore, type MqttGatewayStats } from './gateway-core.ts';
import { mqttMonitor } from './mqtt-monitor.ts';
import type { MqttGatewayOptions } from './options.ts';

export type { MqttGatewayOptions } from './options.ts';

export interface MqttGateway {
  /** The bound TCP port once started (the chosen one when started on port 0). */
  readonly port: number;
  readonly stats: Readonly<MqttGatewayStats>;
  /** Its connections in /connz and its /varz section (mqtt-monitor.ts). */
  readonly monitor: MonitorExtension;
  start(): Promise<void>;
  /** Serve MQTT on a Connection from another transport. Call after start(). */
  accept(connection: Connection): void;
  /** Stop listening and refuse CONNECTs, then close the clients (v5: DISCONNECT 0x8B) over `durationMs` after `graceMs`. */
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  /** Close clients (v5 ones with DISCONNECT 0x8B), save persistent sessions, stop listening. */
  stop(): Promise<void>;
  /** A reload's certificate for the TLS listener: new handshakes use it, connected clients keep theirs. */
  replaceTls(material: TlsServerOptions): void;
}

export function createMqttGateway(options: MqttGatewayOptions): MqttGateway {
  const core = new MqttGatewayCore(options);
  let listener: TcpServer | null = null;
  let boundPort = 0;
  let opened = false;

  function closeListener(): Promise<void> {
    const server = listener;
    listener = null;
    return server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
  }

  return {
    get port() {
      return boundPort;
    },
    stats: core.stats,
    monitor: mqttMonitor(core, () => boundPort),
    async start() {
      if (!opened) {
        await core.open();
        opened = true;
      }
      const tls = options.tls;
      let server: TcpServer;
      if (tls === undefined) {
        server = createServer((socket) => core.accept(new SocketConnection(socket)));
      } else {
        // 'secureConnection' fires after the handshake, so CONNECT is read from a verified peer only.
        server = createTlsServer(tls, (socket: TLSSocket) => core.accept(new SocketConnection(socket, tls.mapCertificate === true ? certificateCredentials(socket) : undefined)));
        server.on('tlsClientError', closeFailedHandshake(options.onTlsError));
      }
      server.listen(core.options.port, core.options.host);
      await once(server, 'listening');
      const address = server.address();
      boundPort = typeof address === 'object' && address !== null ? address.port : core.options.port;
      listener = server;
    },
    accept(connection) {
      core.accept(connection);
    },
    replaceTls(material) {
      replaceServerTls(listener, material);
    },
    async lameDuck(durationMs, graceMs) {
      const closed = closeListener();
      await core.lameDuck(durationMs, graceMs);
      await closed;
    },
    async stop() {
      const closed = closeListener();
      await core.stop();
      await closed;
    },
  };
}
