// NATS over WebSocket in cluster mode (DESIGN "Two deployments"): WebSocket is
// framing only, so each browser connection is piped byte for byte to one NATS
// server of the cluster over TCP. The client's own CONNECT (with its
// credentials) reaches the server unchanged; both directions keep the
// Connection seam's backpressure (a full side pauses the other's reading).

import { connect as tcpConnect, type Socket } from 'node:net';
import type { Connection } from '../../core/server/connection.ts';

export interface NatsTcpRelayOptions {
  /** nats://host:port URLs; connections go to them in turn. */
  servers: readonly string[];
  /** Hears about a server that could not be reached (the browser's connection is then closed). */
  onError?: (server: string, error: Error) => void;
}

interface Endpoint {
  url: string;
  host: string;
  port: number;
}

function endpoint(url: string): Endpoint {
  const parsed = new URL(url);
  return { url, host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port === '' ? 4222 : Number(parsed.port) };
}

/** An accept function for the WebSocket gateway's NATS endpoint. */
export function natsTcpRelay(options: NatsTcpRelayOptions): (connection: Connection) => void {
  const endpoints = options.servers.map(endpoint);
  let next = 0;
  return (connection) => {
    const target = endpoints[next++ % endpoints.length];
    pipe(connection, tcpConnect({ host: target.host, port: target.port, noDelay: true }), (error) => options.onError?.(target.url, error));
  };
}

function pipe(connection: Connection, socket: Socket, onError: (error: Error) => void): void {
  let connected = false;
  socket.once('connect', () => (connected = true));
  socket.on('error', (error) => {
    if (!connected) onError(error);
  });
  socket.on('data', (chunk: Buffer) => {
    if (!connection.write([chunk])) socket.pause();
  });
  connection.onDrain(() => socket.resume());
  connection.onData((chunk) => {
    if (!socket.write(chunk)) connection.pauseReading?.();
  });
  socket.on('drain', () => connection.resumeReading?.());
  socket.once('close', () => connection.end());
  connection.onClose(() => socket.destroy());
}
