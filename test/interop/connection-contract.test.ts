// The Connection contract run against each implementation over real loopback
// sockets: SocketConnection (TCP) and WebSocketConnection (the gateway's ws
// adapter), so NATS and MQTT can rely on the same backpressure and close
// behaviour whatever carries their bytes.

import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { Connection } from '../../core/connection/connection.ts';
import { SocketConnection } from '../../core/connection/socket-connection.ts';
import { WebSocketConnection } from '../../gateways/websocket/websocket-connection.ts';
import { describeConnection, type ConnectionPair, type PeerEnd } from '../helpers/connection-contract.ts';

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
