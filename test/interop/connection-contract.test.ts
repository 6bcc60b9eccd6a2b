// The Connection contract run against each implementation: SocketConnection
// (TCP) and WebSocketConnection (the gateway's ws adapter) over real loopback
// sockets, and the in-memory pair, so NATS and MQTT can rely on the same
// backpressure and close behaviour whatever carries their bytes.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import type { Connection } from '../../core/connection/connection.ts';
import { SocketConnection } from '../../core/connection/socket-connection.ts';
import { NatsServer } from '../../core/server/nats-server.ts';
import { WebSocketConnection } from '../../gateways/websocket/websocket-connection.ts';
import { describeConnection, type ConnectionPair, type PeerEnd } from '../helpers/connection-contract.ts';
import { createMemoryConnectionPair } from '../helpers/memory-connection.ts';
import { until } from '../helpers/mqtt.ts';

async function tcpPair(): Promise<ConnectionPair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [socket] = await accepted;
  await once(client, 'connect');
  const chunks: Buffer[] = [];
  let closed = false;
  client.on('data', (chunk: Buffer) => void chunks.push(chunk));
  client.on('close', () => void (closed = true));
  client.on('error', () => {});
  const peer: PeerEnd = {
    send: (data) => void client.write(data),
    received: () => Buffer.concat(chunks),
    pause: () => void client.pause(),
    resume: () => void client.resume(),
    close: () => void client.end(),
    get closed() {
      return closed;
    },
  };
  return {
    connection: new SocketConnection(socket),
    peer,
    async dispose() {
      client.destroy();
      socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function webSocketPair(): Promise<ConnectionPair> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const [socket] = await accepted;
  if (client.readyState !== client.OPEN) await once(client, 'open');
  const connection: Connection = new WebSocketConnection(socket, { remoteAddress: '127.0.0.1', remotePort: 0 });
  const chunks: Buffer[] = [];
  let closed = false;
  client.on('message', (data: Buffer) => void chunks.push(Buffer.from(data)));
  client.on('close', () => void (closed = true));
  client.on('error', () => {});
  const peer: PeerEnd = {
    send: (data) => client.send(data, { binary: true }),
    received: () => Buffer.concat(chunks),
    pause: () => client.pause(),
    resume: () => client.resume(),
    close: () => client.close(),
    get closed() {
      return closed;
    },
  };
  return {
    connection,
    peer,
    async dispose() {
      client.terminate();
      socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describeConnection('SocketConnection over TCP', tcpPair);
describeConnection('WebSocketConnection over ws', webSocketPair);

function memoryPair(): Promise<ConnectionPair> {
  const [connection, far] = createMemoryConnectionPair();
  const chunks: Buffer[] = [];
  let closed = false;
  far.onData((chunk) => void chunks.push(chunk));
  far.onClose(() => void (closed = true));
  const peer: PeerEnd = {
    send: (data) => void far.write([data]),
    received: () => Buffer.concat(chunks),
    pause: () => far.pauseReading?.(),
    resume: () => far.resumeReading?.(),
    close: () => far.end(),
    get closed() {
      return closed;
    },
  };
  return Promise.resolve({ connection, peer, dispose: async () => far.destroy() });
}

describeConnection('in-memory pair', memoryPair);

describe('in-memory pair carries a protocol', () => {
  it('connection - the NATS server serves a client over an in-memory pair', async () => {
    const server = new NatsServer({ host: '127.0.0.1', port: 0 });
    const [serverEnd, clientEnd] = createMemoryConnectionPair();
    const received: Buffer[] = [];
    clientEnd.onData((chunk) => void received.push(chunk));
    server.accept(serverEnd);
    const text = (): string => Buffer.concat(received).toString();
    await until(() => text().startsWith('INFO {') && text().endsWith('\r\n'), 'INFO over the pair');
    clientEnd.write([Buffer.from('CONNECT {"verbose":false,"pedantic":false}\r\nSUB a.b 1\r\nPUB a.b 5\r\nhello\r\nPING\r\n')]);
    await until(() => text().includes('PONG\r\n'), 'PONG over the pair');
    assert.match(text(), /\r\nMSG a\.b 1 5\r\nhello\r\nPONG\r\n$/);
    clientEnd.destroy();
    await server.stop();
  });
});
