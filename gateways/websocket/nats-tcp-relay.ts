// NATS over WebSocket in cluster mode (DESIGN "Two deployments"): WebSocket is
// framing only, so each browser connection is piped byte for byte to one NATS
// server of the cluster over TCP. The client's own CONNECT (with its
// credentials) reaches the server unchanged; both directions keep the
// Connection seam's backpressure (a full side pauses the other's reading).

import { connect as tcpConnect, type Socket } from 'node:net';
import type { Connection } from '../../core/connection/connection.ts';

export interface NatsTcpRelayOptions {
  /** nats://host:port URLs; connections go to them in turn, skipping one that refuses. */
  servers: readonly string[];
  /** Hears about a server that could not be reached (the next one is tried; when none can be, the browser's connection is closed). */
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
  return (connection) => relay(connection, endpoints, next++ % endpoints.length, options.onError);
}

/**
 * Pipes the browser's connection to the first server that accepts, starting at
 * `first` and trying each server once, so one node down costs a retry, not the
 * browser's connection. Bytes the browser sends meanwhile wait in order.
 */
function relay(connection: Connection, endpoints: readonly Endpoint[], first: number, onError: NatsTcpRelayOptions['onError']): void {
  let socket: Socket | null = null;
  let early: Buffer[] | null = [];
  let closed = false;
  connection.onData((chunk) => {
    if (early !== null) early.push(chunk);
    else if (socket !== null && !socket.write(chunk)) connection.pauseReading?.();
  });
  connection.onClose(() => {
    closed = true;
    socket?.destroy();
  });
  const attempt = (tried: number): void => {
    const target = endpoints[(first + tried) % endpoints.length];
    const candidate = tcpConnect({ host: target.host, port: target.port, noDelay: true });
    socket = candidate;
    const failed = (error: Error): void => {
      onError?.(target.url, error);
      candidate.destroy();
      if (closed) return;
      if (tried + 1 < endpoints.length) attempt(tried + 1);
      else connection.end();
    };
    candidate.once('error', failed);
    candidate.once('connect', () => {
      candidate.off('error', failed);
      candidate.on('error', () => {}); // 'close' follows and ends the browser's side
      for (const chunk of early ?? []) candidate.write(chunk);
      early = null;
      pipe(connection, candidate);
    });
  };
  attempt(0);
}

function pipe(connection: Connection, socket: Socket): void {
  socket.on('data', (chunk: Buffer) => {
    if (!connection.write([chunk])) socket.pause();
  });
  connection.onDrain(() => socket.resume());
  socket.on('drain', () => connection.resumeReading?.());
  socket.once('close', () => connection.end());
}
