// A loopback TCP proxy in front of the mock Kafka cluster, for two things the
// mock cannot do by itself:
// 1. librdkafka 2.0.2's mock reports controller id 0, a broker that does not
//    exist; kafkajs's idempotent producer asks the controller for its producer id
//    and fails. The proxy rewrites the controller id to the first real broker.
// 2. A restarted mock is a new cluster on new ports. The proxy keeps stable
//    addresses, so the bridge keeps its configured brokers across an outage: the
//    test retargets the proxy at the new cluster.
// Broker addresses inside Metadata (api 3) and FindCoordinator (api 10)
// responses are rewritten to the proxy's ports; the host stays 127.0.0.1, so
// every rewrite is in place and no frame changes size. Only the non-flexible
// versions kafkajs uses (Metadata <= v6, FindCoordinator <= v2) are parsed.

import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

const METADATA = 3;
const FIND_COORDINATOR = 10;

export interface KafkaProxy {
  /** Stable addresses to give kafkajs. */
  readonly brokers: string[];
  /** Point at a (new) mock cluster, or null to refuse connections (an outage). Existing connections are cut. */
  retarget(upstream: string[] | null): void;
  close(): Promise<void>;
}

class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < size + 4) return;
      onFrame(this.pending.subarray(0, size + 4));
      this.pending = this.pending.subarray(size + 4);
    }
  }
}

function skipString(frame: Buffer, at: number): number {
  const len = frame.readInt16BE(at);
  return at + 2 + Math.max(0, len);
}

export async function startKafkaProxy(count = 3): Promise<KafkaProxy> {
  let upstream: string[] | null = null;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const ports: number[] = [];

  const proxyPortFor = (port: number): number => {
    const index = upstream?.findIndex((address) => address.endsWith(`:${port}`)) ?? -1;
    return index >= 0 && index < ports.length ? ports[index] : port;
  };

  const rewrite = (frame: Buffer, apiKey: number, version: number): void => {
    if (apiKey === METADATA && version <= 6) {
      let at = 8 + (version >= 3 ? 4 : 0);
      const n = frame.readInt32BE(at);
      at += 4;
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        ids.push(frame.readInt32BE(at));
        at = skipString(frame, at + 4);
        frame.writeInt32BE(proxyPortFor(frame.readInt32BE(at)), at);
        at += 4;
        if (version >= 1) at = skipString(frame, at);
      }
      if (version >= 2) at = skipString(frame, at);
      if (version >= 1 && ids.length > 0 && !ids.includes(frame.readInt32BE(at))) frame.writeInt32BE(Math.min(...ids), at);
    } else if (apiKey === FIND_COORDINATOR && version <= 2) {
      let at = 8;
      if (version >= 1) at = skipString(frame, at + 4 + 2);
      else at += 2;
      at = skipString(frame, at + 4);
      frame.writeInt32BE(proxyPortFor(frame.readInt32BE(at)), at);
    }
  };

  const handle = (client: Socket, index: number): void => {
    const target = upstream?.[index];
    if (target === undefined) {
      client.destroy();
      return;
    }
    const [host, port] = target.split(':');
    const server = connect(Number(port), host);
    sockets.add(client);
    sockets.add(server);
    const requests = new Map<number, { apiKey: number; version: number }>();
    const fromClient = new FrameReader();
    const fromServer = new FrameReader();
    client.on('data', (chunk: Buffer) =>
      fromClient.push(chunk, (frame) => {
        requests.set(frame.readInt32BE(8), { apiKey: frame.readInt16BE(4), version: frame.readInt16BE(6) });
        server.write(frame);
      }),
    );
    server.on('data', (chunk: Buffer) =>
      fromServer.push(chunk, (frame) => {
        const correlation = frame.readInt32BE(4);
        const request = requests.get(correlation);
        requests.delete(correlation);
        if (request !== undefined) rewrite(frame, request.apiKey, request.version);
        client.write(frame);
      }),
    );
    const close = (): void => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  };

  for (let i = 0; i < count; i++) {
    const server = createServer((socket) => handle(socket, i));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    ports.push(typeof address === 'object' && address !== null ? address.port : 0);
    servers.push(server);
  }

  return {
    brokers: ports.map((port) => `127.0.0.1:${port}`),
    retarget(next) {
      upstream = next;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    async close() {
      upstream = null;
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
